import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import { loadConfigFile } from '../../shared/config/index.ts';
import { profileSpec } from '../../shared/profile/index.ts';
import { createLearner, profileToYaml } from '../../sidecar/learn/index.ts';
import { started } from './make-events.ts';

const dir = mkdtempSync(join(tmpdir(), 'sw-learn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function learn(out: string, script: string): Promise<number> {
  const sink = new PassThrough();
  sink.resume();
  return runCli(['learn', '--out', out, '--tick', '20', '--', '/bin/sh', '-c', script], {
    stdout: sink,
    stderr: sink,
    env: {},
    cwd: dir,
  });
}

describe('learn', () => {
  it('learns a real process tree (-- COMMAND) twice into the same, valid, commented profile', async () => {
    // each step lives long enough (1 s) to be seen by /proc polling even on a busy machine (the watcher's loop was
    // seen held up to 300 ms at a time beside stress-ng --cpu 2); a port and busybox applets; the tree lives past
    // the second resources sample (1 s): the first one can catch a shell a moment after its exec, with almost
    // nothing resident yet, and a workload shorter than the sample period would learn no memory limit on some runs
    const script =
      'busybox sleep 1; sleep 1 & busybox nc -l -p 39871 & sleep 1.2; kill $! 2>/dev/null; wait; sleep 1.2';
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    expect(await learn(a, script)).toBe(0);
    expect(await learn(b, script)).toBe(0);
    const textA = readFileSync(a, 'utf8');
    expect(readFileSync(b, 'utf8')).toBe(textA);
    expect(textA).toMatch(/^# Learned by `sealwatch learn`/);
    expect(textA).not.toMatch(/\d{4}-\d{2}-\d{2}T/); // no timestamps in the body
    const { value } = loadConfigFile(profileSpec, a);
    expect(value.metadata.source).toBe('learned');
    const names = value.processes.map((p) => `${p.exe}${p.name ? `:${p.name}` : ''}`);
    expect(names).toContain('/usr/bin/busybox:sleep');
    expect(names).toContain('/usr/bin/busybox:nc');
    expect(value.network.listen).toEqual([{ port: 39871, protocol: 'tcp' }]);
    expect(value.resources.processes?.max).toBeGreaterThanOrEqual(4);
  });

  it('orders entries and escapes hostile names, whatever the observation order', () => {
    const l1 = createLearner();
    const l2 = createLearner();
    const obs = [
      started({ pid: 1, name: 'b', exe: '/bin/b', user: 'app' }),
      started({ pid: 2, name: 'evil"\n- { exe: /x }', exe: '/bin/busybox', user: 'root' }),
      started({ pid: 3, name: 'a', exe: '/bin/a', user: 'app' }),
    ];
    for (const e of obs) l1.observe(e);
    for (const e of [...obs].reverse()) l2.observe(e);
    const y1 = profileToYaml(l1.profile());
    expect(profileToYaml(l2.profile())).toBe(y1);
    writeFileSync(join(dir, 'h.yaml'), y1);
    const { value } = loadConfigFile(profileSpec, join(dir, 'h.yaml'));
    expect(value.processes.map((p) => p.exe)).toEqual(['/bin/a', '/bin/b', '/bin/busybox']);
    // learned as a literal in the glob language (#15.5): its glob characters escaped
    expect(value.processes[2]!.name).toBe('evil"\n- \\{ exe: /x \\}');
  });
});
