import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import type { Profile } from '../../shared/profile/index.ts';
import { createLearner } from '../../sidecar/learn/index.ts';
import { buildPipeline, MODES, openRun, type PipelineDeps } from '../../sidecar/pipeline/index.ts';
import { treeScope } from '../../sidecar/sources/index.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import { FixtureProc, TCP_HEADER } from './fixture-proc.ts';

/**
 * What the learner learns is what the rules match (one program-identity module, normalize/program.ts): a
 * workload learned on a fixture /proc and then monitored, unchanged, with the learned profile raises no profile
 * alert. The processes are named every way a program can be: a busybox applet through a link, `busybox APPLET`,
 * a login shell's "-sh", dash run as sh, an interpreter by another name, a server that rewrote its argv, a process
 * read after it exited (no argv: comm only), and a re-exec through /proc/self/exe read after exit (comm "exe").
 */
describe('learn, then monitor the same workload with what was learned', () => {
  const fx = new FixtureProc();
  const rootfs = fx.rootfs('sw-ltm-root-');
  afterAll(() => fx.cleanup());
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  const LISTEN = '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1\n';
  const EGRESS = '   1: 0100000A:C000 076433C6:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 9002 1\n';
  const workload = (): void => {
    const p = { root: rootfs, ppid: 1 };
    fx.add({
      pid: 1,
      ppid: 0,
      comm: 'sh',
      cmdline: ['/bin/sh', '-c', 'run'],
      exe: '/bin/busybox',
      root: rootfs,
      net: { tcp: TCP_HEADER + LISTEN + EGRESS },
    });
    fx.add({ ...p, pid: 2, comm: 'sleep', cmdline: ['sleep', '30'], exe: '/bin/busybox' });
    fx.add({ ...p, pid: 3, comm: 'busybox', cmdline: ['busybox', 'sleep', '1'], exe: '/bin/busybox' });
    fx.add({ ...p, pid: 4, comm: 'sh', cmdline: ['-sh'], exe: '/bin/busybox' });
    fx.add({ ...p, pid: 5, comm: 'sh', cmdline: ['sh', '-c', 'x'], exe: '/usr/bin/dash' });
    fx.add({ ...p, pid: 6, comm: 'python3', cmdline: ['python3', 'app.py'], exe: '/usr/bin/python3.11', uid: 1000 });
    fx.add({
      ...p,
      pid: 7,
      comm: 'httpd',
      cmdline: Buffer.from('httpd: worker process\0'),
      exe: '/usr/sbin/httpd',
      fds: { 3: 'socket:[9001]' },
    });
    fx.add({ ...p, pid: 8, comm: 'cat', cmdline: ['cat', '/etc/hostname'], exe: '/bin/busybox' });
    fx.add({ ...p, pid: 9, comm: 'cat', cmdline: Buffer.alloc(0), exe: '/bin/busybox' });
    fx.add({ ...p, pid: 10, comm: 'exe', cmdline: Buffer.alloc(0), exe: '/bin/busybox' });
    fx.add({
      ...p,
      pid: 11,
      comm: 'wget',
      cmdline: ['wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/'],
      exe: '/bin/busybox',
    });
    fx.add({
      ...p,
      pid: 12,
      comm: 'node',
      cmdline: ['node', 'server.js'],
      exe: '/usr/local/bin/node',
      uid: 1000,
      fds: { 4: 'socket:[9002]' },
    });
  };

  const run = (mode: 'learn' | 'monitor') =>
    openRun({
      settings: { mode, dryRun: false, killMinSeverity: 7, aggregateWindowMs: 60_000, emitAll: false, version: 'test' },
      logger: silentLogger(),
      outputs: [],
      stdout: new PassThrough(),
      env: {},
    });
  const pipeline = (deps: Omit<PipelineDeps, 'proc'>) =>
    buildPipeline({ name: 'command run', scope: treeScope(1, 1) }, MODES.command, {
      ...deps,
      proc: createProcFs(fx.root),
    });

  it('raises no profile alert, and learns each program under the name the rules match', async () => {
    workload();
    const learner = createLearner();
    const learning = pipeline({ run: run('learn'), learner });
    for (const now of [1_000, 1_400, 2_300, 3_300]) learning.tick(now);
    await learning.close();
    const profile: Profile = learner.profile();
    expect(profile.processes.map((p) => `${p.exe}${p.name ? `:${p.name}` : ''}`)).toEqual([
      '/bin/busybox:cat',
      '/bin/busybox:sh',
      '/bin/busybox:sleep',
      '/bin/busybox:wget',
      '/usr/bin/dash:sh',
      '/usr/bin/python3.11:python3',
      '/usr/local/bin/node',
      '/usr/sbin/httpd:httpd: worker process',
    ]);
    expect(profile.network.listen).toEqual([{ port: 8080, protocol: 'tcp' }]);
    expect(profile.network.egress).toEqual([{ cidr: '198.51.100.7/32', ports: [443], protocol: 'tcp' }]);

    // the same workload, watched from scratch with the learned profile
    workload();
    const monitoring = pipeline({ run: run('monitor'), profile: { profile, source: 'learned' } });
    for (const now of [10_000, 10_400, 11_300, 12_300]) monitoring.tick(now);
    const alerts = monitoring.recent({ limit: 1000 }).filter((e) => e.event.kind === 'alert');
    expect(alerts.map((e) => `${e.rule?.id}: ${e.message}`)).toEqual([]);
    expect(monitoring.tracker.processes().size).toBe(12);
    await monitoring.close();
  });
});
