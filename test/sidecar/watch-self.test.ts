import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';

/**
 * #15 item 14, second bullet: `watch -- CMD` shipped sealwatch's own argv (its `--output` credentials) as the
 * parent's args in `shell-spawned-by-non-shell` alerts, and alerted on the user's own `sh -c` it started. The
 * real CLI, as its own process (node with the tsx loader: the watcher is the command's parent, as in production).
 */
const SECRET = 'S3CRETPW';

describe('watch -- COMMAND and the watcher itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-watch-self-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("never ships the watcher's own command line, and the user's `sh -c` is not a shell spawned by a non-shell", async () => {
    const receiver = createSocket('udp4');
    const datagrams: string[] = [];
    receiver.on('message', (m) => datagrams.push(m.toString('utf8')));
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const port = receiver.address().port;
    const events = join(dir, 'events.jsonl');
    try {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(REPO_ROOT, 'cli', 'bin.ts'),
          'watch',
          '--output',
          `file://${events}`,
          '--output',
          `syslog+udp://admin:${SECRET}@127.0.0.1:${port}?format=json`,
          '--emit',
          'all',
          '--tick',
          '50',
          '--spool-dir',
          join(dir, 'spool'),
          '--',
          'sh',
          '-c',
          // the user's shell, a shell it starts, and a non-shell (timeout) starting a shell: that one still alerts
          'sh -c "sleep 1.5"; timeout 10 sh -c "sleep 1.5"; sleep 0.5',
        ],
        { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, stderr).toBe(0);
      const lines = readFileSync(events, 'utf8').trim().split('\n');
      type Ev = {
        event: { action: string };
        rule?: { id?: string };
        process?: { pid?: number; name?: string; parent?: { pid?: number; name?: string; args?: string[] } };
      };
      const all = lines.map((l) => JSON.parse(l) as Ev);
      for (const text of [...lines, ...datagrams, stderr]) expect(text).not.toContain(SECRET);
      expect(lines.join('\n')).not.toContain('--output');

      // the command sealwatch started: its parent is the watcher, by PID, with no command line
      const top = all.find((e) => e.event.action === 'process-started' && e.process?.parent?.pid === child.pid);
      expect(top?.process?.parent).toEqual({ pid: child.pid, name: 'sealwatch', executable: expect.any(String) });
      const shellAlerts = all.filter((e) => e.rule?.id === 'shell-spawned-by-non-shell');
      // only the shell under timeout: the rule is live in this run
      expect(shellAlerts.map((e) => e.process?.parent?.name)).toEqual(['timeout']);
      expect(shellAlerts[0]!.process?.parent?.args).toEqual(['timeout', '10', 'sh', '-c', 'sleep 1.5']);
    } finally {
      receiver.close();
    }
  }, 90_000);
});
