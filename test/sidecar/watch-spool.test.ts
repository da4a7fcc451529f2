import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Event } from '../../shared/events/index.ts';
import { freePort } from '../harness/net.ts';
import { describeRsyslog, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * The watcher's disk spool, end to end with real processes: `sealwatch watch` (the built CLI, its own
 * process) sends to a real rsyslog that is down; its alerts go to the spool; the watcher is SIGKILLed;
 * a new watcher on the same --spool-dir, with the receiver up, delivers them (counted by run_id + seq).
 */
const CLI = resolve(import.meta.dirname, '../../dist/cli.mjs');

describeRsyslog('watch --spool-dir: events survive a receiver outage and a SIGKILL of the watcher', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  let receiver: RsyslogReceiver | undefined;
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await receiver?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('spooled alerts of a killed watcher arrive after a restart with the receiver up', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-watch-spool-'));
    dirs.push(work);
    const spoolDir = join(work, 'spool', 'nested'); // created by the watcher
    const port = await freePort();
    const apiPort = await freePort();
    const output = `syslog+tcp://127.0.0.1:${port}`;
    // five programs run from /tmp, each with other args: five distinct exec-from-tmp alerts
    const script = `cp /bin/sleep ${work}/x; for i in 1 2 3 4 5; do ${work}/x $((i+100)) & done; wait`;
    const first = spawn(
      process.execPath,
      [
        CLI,
        'watch',
        '--spool-dir',
        spoolDir,
        '--output',
        output,
        '--listen',
        `127.0.0.1:${apiPort}`,
        '--',
        'sh',
        '-c',
        script,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(first);
    let stderr = '';
    first.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const api = async <T>(path: string): Promise<T> =>
      (await (await fetch(`http://127.0.0.1:${apiPort}${path}`)).json()) as T;
    // all five alerts dispatched, none in memory, the spool holds them
    const shipped = await waitFor(`five spooled alerts (${stderr})`, async () => {
      const status = await api<{ outputs: { queued: number; spoolBytes: number; sent: number }[] }>('/v1/status');
      const events = (await api<{ events: Event[] }>('/v1/events?rule=exec-from-tmp&limit=100')).events;
      const out = status.outputs[0]!;
      return events.length >= 5 && out.queued === 0 && out.spoolBytes > 0 && out.sent === 0 ? events : undefined;
    });
    expect(existsSync(spoolDir)).toBe(true);
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited;
    expect(first.signalCode).toBe('SIGKILL');
    // the watched tree (its own process group) is ours to end
    const shPid = shipped[0]!.process!.ppid!;
    try {
      process.kill(-shPid, 'SIGKILL');
    } catch {
      // already gone
    }

    const runId = shipped[0]!.sealwatch.run_id!;
    const seqs = new Set(shipped.map((e) => e.sealwatch.seq!));
    receiver = await startRsyslog({ port });
    const second = await runCliCaptured(['watch', '--spool-dir', spoolDir, '--output', output, '--', 'sleep', '1'], {
      cwd: work,
    });
    expect(second.code, second.stderr).toBe(0);
    const received = await receiver.waitFor(seqs.size, {
      timeoutMs: 30_000,
      filter: (m) => m.parsed.cef?.Extensions.flexString1 === runId,
    });
    const got = new Set(received.map((m) => Number(m.parsed.cef!.Extensions.cn1)));
    expect([...seqs].filter((s) => !got.has(s))).toEqual([]);
    expect(received.filter((m) => /exec-from-tmp/.test(m.parsed.cef!.SignatureID)).length).toBeGreaterThanOrEqual(5);
  });

  it('a spool folder that cannot be created: one line, exit 3', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-watch-spool-'));
    dirs.push(work);
    writeFileSync(join(work, 'a-file'), '');
    const spoolDir = join(work, 'a-file', 'spool');
    const res = await runCliCaptured(
      ['watch', '--spool-dir', spoolDir, '--output', 'syslog+tcp://127.0.0.1:9', '--', 'true'],
      { cwd: work },
    );
    expect(res.code).toBe(3);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(`--spool-dir ${spoolDir}: cannot create`);
  });
});
