import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';
import { run } from '../harness/exec.ts';
import { freePort } from '../harness/net.ts';
import { waitFor } from '../harness/wait.ts';

/** Processes whose command line contains `marker` (read from /proc). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('bin/sealwatch.js under npx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-bin-'));
  afterAll(() => {
    for (const pid of processesWith(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM to `npx sealwatch watch` ends the node process too, and its port is free again', async () => {
    const port = await freePort();
    // npm exec is what npx runs; --offline: the package is this checkout, nothing to fetch
    const npx = spawn(
      'npm',
      [
        'exec',
        '--offline',
        '--',
        'sealwatch',
        'watch',
        '--listen',
        `127.0.0.1:${port}`,
        '--spool-dir',
        dir,
        '--',
        'sleep',
        '100',
      ],
      { cwd: REPO_ROOT, stdio: 'ignore' },
    );
    await waitFor('the API answering', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 60_000);
    const node = processesWith(dir).filter((pid) => pid !== npx.pid);
    expect(node.length).toBeGreaterThan(0);
    npx.kill('SIGTERM');
    await waitFor('every process of the run gone', () => processesWith(dir).length === 0, 20_000);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 90_000);

  it('an unreachable engine is one line whose hint works for an installed package (no scripts/ of this repository)', async () => {
    execFileSync(process.execPath, [join(REPO_ROOT, 'bin/sealwatch.js'), 'keygen', '--out', join(dir, 'keys')]);
    const result = await run(process.execPath, [
      join(REPO_ROOT, 'bin/sealwatch.js'),
      'verify',
      '--image',
      'app:1',
      '--pub',
      join(dir, 'keys/sealwatch.pub'),
      '--docker-socket',
      join(dir, 'no-engine.sock'),
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /Docker engine not reachable at .*no-engine\.sock; start it \(systemctl start docker\)/,
    );
    expect(result.stderr).not.toContain('scripts/');
    // every file a hint names is in the npm package (package.json "files")
    const files = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
    expect(files.some((f) => f === 'scripts' || f.startsWith('scripts/'))).toBe(false);
  });
});
