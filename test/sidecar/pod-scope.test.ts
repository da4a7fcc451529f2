import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createHashCache } from '../../sidecar/sources/hash-cache.ts';
import { createProcessTracker } from '../../sidecar/sources/process-tracker.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import { podScope } from '../../sidecar/sources/scope.ts';
import { FixtureProc } from './fixture-proc.ts';

/**
 * Pod mode leaves out the watcher's own container (the image's HEALTHCHECK, a `docker exec` into the sidecar):
 * they are not the app, and alerting on them (node is not in the app's profile) is a false positive.
 */
describe('pod scope', () => {
  const fx = new FixtureProc();
  afterAll(() => fx.cleanup());
  const cgroup = (pid: number, text: string): void => writeFileSync(join(fx.root, String(pid), 'cgroup'), text);
  const APP = '0::/../docker-aaaa.scope\n';
  const SIDECAR = '0::/\n';

  it("leaves out processes of the watcher's own container, and only those", () => {
    fx.add({ pid: 1, comm: 'sh' });
    fx.add({ pid: 7, ppid: 1, comm: 'httpd' });
    fx.add({ pid: 40, ppid: 0, comm: 'node' }); // the watcher
    fx.add({ pid: 41, ppid: 40, comm: 'node' }); // a child of the watcher
    fx.add({ pid: 50, ppid: 0, comm: 'node' }); // the HEALTHCHECK, exec'd into the sidecar by the engine
    for (const [pid, text] of [
      [1, APP],
      [7, APP],
      [40, SIDECAR],
      [41, SIDECAR],
      [50, SIDECAR],
    ] as const)
      cgroup(pid, text);
    const proc = createProcFs(fx.root);
    const scope = podScope(40, proc);
    const included = [1, 7, 40, 41, 50].filter((pid) => scope.includes(proc.stat(pid)!, () => false));
    expect(included).toEqual([1, 7]);
    // without a ProcFs: the watcher and its children only, as before
    const bare = podScope(40);
    expect([1, 7, 40, 41, 50].filter((pid) => bare.includes(proc.stat(pid)!, () => false))).toEqual([1, 7, 50]);
  });

  it('keeps every process when the watcher shares the cgroup of PID 1 (it runs inside the app container)', () => {
    for (const pid of [1, 7, 40, 41, 50]) cgroup(pid, APP);
    const proc = createProcFs(fx.root);
    const scope = podScope(40, proc);
    expect([1, 7, 40, 41, 50].filter((pid) => scope.includes(proc.stat(pid)!, () => false))).toEqual([1, 7, 50]);
  });

  it.each([
    ['the sidecar (its HEALTHCHECK)', SIDECAR, []],
    ['the app (docker exec)', APP, ['node']],
  ])(
    'a runtime exec stage listed before it joined a cgroup is judged again when it execs: into %s',
    (_what, joined, reported) => {
      const root = new FixtureProc();
      try {
        const put = (pid: number, text: string): void => writeFileSync(join(root.root, String(pid), 'cgroup'), text);
        root.add({ pid: 1, comm: 'sh' });
        put(1, APP);
        root.add({ pid: 40, ppid: 0, comm: 'node' });
        put(40, SIDECAR);
        // runc's exec stage, still in the runtime's cgroup (outside both containers), no exe inside the root
        root.add({ pid: 60, ppid: 0, comm: 'runc', cmdline: ['runc', 'init'], startTicks: 5000 });
        put(60, '0::/../../system.slice/containerd.service\n');
        const proc = createProcFs(root.root);
        const tracker = createProcessTracker({
          proc,
          scope: podScope(40, proc),
          hashes: createHashCache(proc),
          logger: silentLogger(),
          countGaps: false,
          rescanMs: 0,
        });
        const starts = (obs: ReturnType<typeof tracker.tick>): string[] =>
          obs.flatMap((o) => (o.type === 'process-start' && o.process.pid === 60 ? [o.process.name] : []));
        expect(starts(tracker.tick(1000))).toEqual([]);
        root.add({
          pid: 60,
          ppid: 0,
          comm: 'node',
          cmdline: ['node', '/opt/sealwatch/deploy/image/healthcheck.mjs'],
          exe: '/usr/local/bin/node',
          startTicks: 5000,
        });
        put(60, joined);
        expect(starts(tracker.tick(3000))).toEqual(reported);
        expect(tracker.processes().has(60)).toBe(reported.length > 0);
      } finally {
        root.cleanup();
      }
    },
  );
});
