import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createHashCache } from '../../sidecar/sources/hash-cache.ts';
import { countGap, createProcessTracker } from '../../sidecar/sources/process-tracker.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import { containerScope, podScope, treeScope } from '../../sidecar/sources/scope.ts';
import { createSocketSource } from '../../sidecar/sources/socket-source.ts';
import type { Observation } from '../../sidecar/sources/types.ts';
import { waitFor } from '../harness/wait.ts';
import { FixtureProc, TCP_HEADER } from './fixture-proc.ts';

function tracker(root: string, selfPid = 999_999) {
  const proc = createProcFs(root);
  const hashes = createHashCache(proc);
  const t = createProcessTracker({ proc, scope: podScope(selfPid), hashes, logger: silentLogger(), countGaps: true });
  return { proc, hashes, t };
}

const of = <T extends Observation['type']>(obs: Observation[], type: T) =>
  obs.filter((o): o is Extract<Observation, { type: T }> => o.type === type);

describe('process tracker on a fixture /proc', () => {
  const fx = new FixtureProc();
  afterAll(() => fx.cleanup());

  it('reports starts once, exits, hostile names, and skips bad records', () => {
    fx.add({ pid: 1, comm: 'init', cmdline: ['/bin/sh', '/app/start.sh'], exe: '/bin/busybox' });
    fx.add({
      pid: 20,
      ppid: 1,
      comm: 'x) (y',
      cmdline: Buffer.from([0x6e, 0x63, 0, 0x2d, 0x6c, 0, 0xff, 0]),
      fds: { 0: 'socket:[555]', 1: 'socket:[555]', 3: '/etc/shadow' },
    });
    fx.add({ pid: 21, stat: 'garbage' });
    const { t, proc } = tracker(fx.root);
    const first = t.tick(1000);
    const starts = of(first, 'process-start');
    expect(starts.map((s) => s.process.pid)).toEqual([1, 20]);
    const nc = starts[1]!.process;
    expect(nc.name).toBe('nc');
    expect(nc.comm).toBe('x) (y');
    expect(nc.args).toEqual(['nc', '-l', '\uFFFD']);
    expect(nc.stdin).toBe('socket');
    expect(starts[1]!.parent).toMatchObject({ pid: 1, name: 'sh' });
    expect(of(first, 'file-open').map((f) => f.path)).toEqual(['/etc/shadow']);
    expect(t.socketOwner(555)?.pid).toBe(20);
    expect(proc.skipped).toBeGreaterThanOrEqual(1);

    // second tick: nothing new is reported again
    expect(of(t.tick(1100), 'process-start')).toHaveLength(0);

    fx.remove(20);
    const third = t.tick(1200);
    expect(of(third, 'process-exit').map((e) => e.process.pid)).toEqual([20]);
  });

  it('excludes the watcher itself in pod scope', () => {
    fx.add({ pid: 30, comm: 'sealwatch' });
    const { t } = tracker(fx.root, 30);
    expect(of(t.tick(0), 'process-start').map((s) => s.process.pid)).not.toContain(30);
  });

  it('counts PIDs that came and went between ticks as a gap', () => {
    const g = new FixtureProc();
    try {
      g.add({ pid: 100 });
      const { t } = tracker(g.root);
      t.tick(0);
      g.add({ pid: 105 });
      const obs = t.tick(100);
      // 101..104 were allocated and never seen
      expect(of(obs, 'pid-gap')[0]).toMatchObject({ missed: 4, totalMissed: 4 });
      expect(t.stats.gaps).toBe(4);
    } finally {
      g.cleanup();
    }
  });

  it('countGap ignores the first tick and wrap-around', () => {
    expect(countGap(0, [5, 9])).toBe(0);
    expect(countGap(10, [3])).toBe(0);
    expect(countGap(10, [11, 12, 15])).toBe(2);
  });

  it('sees a uid change and a file opened later on rescan', () => {
    const g = new FixtureProc();
    try {
      g.add({ pid: 40, uid: 1000 });
      const { t } = tracker(g.root);
      t.tick(0);
      g.add({ pid: 40, uid: 0, fds: { 5: '/etc/sudoers' } });
      const obs = t.tick(5000);
      expect(of(obs, 'process-uid-change')[0]).toMatchObject({ fromEuid: 1000, toEuid: 0 });
      expect(of(obs, 'file-open')[0]?.path).toBe('/etc/sudoers');
    } finally {
      g.cleanup();
    }
  });

  it("names the user of a process whose root is gone through its watched parent's root, not through an unwatched one", () => {
    const g = new FixtureProc();
    const rootfs = g.rootfs();
    try {
      mkdirSync(join(rootfs, 'etc'));
      writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n');
      g.add({ pid: 50, comm: 'sh', uid: 1000, root: rootfs });
      // a 1 ms program: by the time it is read its root link no longer resolves
      g.add({ pid: 51, ppid: 50, comm: 'cat', uid: 1000 });
      // the same, but its parent (a runtime shim outside the container) is not watched
      g.add({ pid: 52, ppid: 7777, comm: 'cat', uid: 1000 });
      const { t } = tracker(g.root);
      const users = Object.fromEntries(of(t.tick(0), 'process-start').map((s) => [s.process.pid, s.process.user]));
      expect(users).toEqual({ 50: 'app', 51: 'app', 52: undefined });
    } finally {
      g.cleanup();
    }
  });

  it('notices an exec in a known PID (runc init → the real program) and a reused PID', () => {
    const g = new FixtureProc();
    try {
      g.add({ pid: 60, comm: 'runc:[2:INIT]', cmdline: ['runc', 'init'], exe: '/usr/bin/runc' });
      const { t } = tracker(g.root);
      expect(of(t.tick(0), 'process-start').map((s) => s.process.name)).toEqual(['runc']);
      g.add({ pid: 60, comm: 'bb', cmdline: ['/tmp/bb', 'sleep', '30'], exe: '/tmp/bb' });
      const starts = of(t.tick(100), 'process-start');
      expect(starts.map((s) => [s.process.pid, s.process.exe, s.process.args])).toEqual([
        [60, '/tmp/bb', ['/tmp/bb', 'sleep', '30']],
      ]);
      expect(of(t.tick(200), 'process-start')).toHaveLength(0);
      // the same PID with another start time is another process
      g.add({ pid: 60, comm: 'other', exe: '/bin/other', startTicks: 5000 });
      const obs = t.tick(300);
      expect(of(obs, 'process-exit').map((e) => e.process.exe)).toEqual(['/tmp/bb']);
      expect(of(t.tick(400), 'process-start').map((s) => s.process.exe)).toEqual(['/bin/other']);
    } finally {
      g.cleanup();
    }
  });

  it("does not report the runtime's exec stage (runc init, exe outside the root) but the program it becomes", () => {
    const g = new FixtureProc();
    try {
      g.add({ pid: 61, comm: 'runc:[2:INIT]', cmdline: ['runc', 'init'], exe: '/' });
      const { t } = tracker(g.root);
      expect(of(t.tick(0), 'process-start')).toHaveLength(0);
      g.add({ pid: 61, comm: 'sh', cmdline: ['sh', '-c', 'id'], exe: '/bin/busybox' });
      expect(of(t.tick(100), 'process-start').map((s) => [s.process.pid, s.process.name])).toEqual([[61, 'sh']]);
    } finally {
      g.cleanup();
    }
  });

  it('--container: a `docker exec` listed before the runtime moved it into the container is seen once it is in', () => {
    const g = new FixtureProc();
    const ID = 'e'.repeat(64);
    const cgroup = (pid: number, text: string) => writeFileSync(join(g.root, String(pid), 'cgroup'), text);
    try {
      g.add({ pid: 10, comm: 'sleep', cmdline: ['sleep', '3600'], exe: '/bin/busybox' });
      cgroup(10, `12:pids:/docker/${ID}\n`);
      // the runtime's exec stage, forked by the shim: still in the shim's cgroup at this tick
      g.add({ pid: 70, ppid: 9, comm: 'runc:[2:INIT]', cmdline: ['runc', 'init'], exe: '/', startTicks: 5000 });
      cgroup(70, '12:pids:/system.slice/containerd.service\n');
      const proc = createProcFs(g.root);
      const t = createProcessTracker({
        proc,
        scope: containerScope(proc, ID, 10),
        hashes: createHashCache(proc),
        logger: silentLogger(),
        countGaps: false,
      });
      expect(of(t.tick(0), 'process-start').map((s) => s.process.pid)).toEqual([10]);
      // moved into the container's cgroup, then the program exec'd in the same PID
      g.add({
        pid: 70,
        ppid: 9,
        comm: 'sleep',
        cmdline: ['/tmp/c/s/sleep', '1'],
        exe: '/tmp/c/s/bb',
        startTicks: 5000,
      });
      cgroup(70, `12:pids:/docker/${ID}\n`);
      expect(of(t.tick(100), 'process-start').map((s) => [s.process.pid, s.process.name, s.process.exe])).toEqual([
        [70, 'sleep', '/tmp/c/s/bb'],
      ]);
      // a host process that stays outside is looked at no more once the window is over
      g.add({ pid: 80, comm: 'runc', cmdline: ['runc', 'exec'], exe: '/usr/bin/runc', startTicks: 6000 });
      expect(of(t.tick(200), 'process-start')).toEqual([]);
      expect(of(t.tick(5000), 'process-start')).toEqual([]);
      cgroup(80, `12:pids:/docker/${ID}\n`);
      expect(of(t.tick(5100), 'process-start')).toEqual([]);
    } finally {
      g.cleanup();
    }
  });

  it('maps connections to their owning pid through fds', () => {
    const g = new FixtureProc();
    try {
      g.add({
        pid: 50,
        fds: { 3: 'socket:[7001]', 4: 'socket:[7002]' },
        net: {
          tcp:
            TCP_HEADER +
            '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1\n' +
            '   1: 0100007F:C000 0100007F:0016 01 00000000:00000000 00:00000000 00000000     0        0 7002 1\n',
        },
      });
      const { t, proc } = tracker(g.root);
      t.tick(0);
      const sockets = createSocketSource({ proc, tracker: t, anchor: () => 50 });
      const conns = of(sockets.poll(1000), 'connection');
      expect(conns.map((c) => [c.direction, c.socket.localPort, c.socket.remotePort, c.process?.pid])).toEqual([
        ['listening', 8080, 0, 50],
        ['egress', 49152, 22, 50],
      ]);
      expect(sockets.poll(2000)).toHaveLength(0);
    } finally {
      g.cleanup();
    }
  });
  it('a new socket waits (bounded) for the tracker to read its process, so the event names it; a closed one is still reported', () => {
    const g = new FixtureProc();
    try {
      const table = (lines: string[]) => ({ tcp: TCP_HEADER + lines.join('') });
      const LISTEN =
        '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7101 1\n';
      const OUT = '   1: 0100007F:C000 0100007F:0016 01 00000000:00000000 00:00000000 00000000     0        0 7102 1\n';
      const BRIEF =
        '   2: 0100007F:C001 0100007F:0017 01 00000000:00000000 00:00000000 00000000     0        0 7103 1\n';
      g.add({ pid: 50, net: table([LISTEN, OUT, BRIEF]) });
      const { t, proc } = tracker(g.root);
      t.tick(0);
      const sockets = createSocketSource({ proc, tracker: t, anchor: () => 50, intervalMs: 100, ownerWaitMs: 1000 });
      // the listener's process appeared after the tracker's listing: nothing yet, rather than an event without it
      expect(sockets.poll(1000)).toEqual([]);
      g.add({ pid: 60, fds: { 3: 'socket:[7101]' } });
      g.add({ pid: 50, net: table([LISTEN, OUT]) });
      t.tick(1200);
      const seen = of(sockets.poll(1200), 'connection');
      // the listener with its process; the brief one closed while it waited: reported as it was seen
      expect(seen.map((c) => [c.direction, c.socket.inode, c.process?.pid])).toEqual([
        ['listening', 7101, 60],
        ['egress', 7103, undefined],
      ]);
      // no owner within the wait: reported without one, once
      expect(of(sockets.poll(2100), 'connection').map((c) => [c.socket.inode, c.process?.pid])).toEqual([
        [7102, undefined],
      ]);
      expect(sockets.poll(2300)).toEqual([]);
    } finally {
      g.cleanup();
    }
  });
});

describe('process tracker on the real /proc (tree scope)', () => {
  it('hashes an executable of many chunks as sha256sum does', () => {
    const proc = createProcFs('/proc');
    const digest = createHashCache(proc).hashOf(process.pid, process.execPath);
    const expected = execFileSync('sha256sum', [process.execPath], { encoding: 'utf8' }).split(' ')[0];
    expect(digest).toBe(expected);
  });

  it('sees a child tree started by us, hashes each executable once, and sees exits', async () => {
    const child = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
    const proc = createProcFs('/proc');
    const hashes = createHashCache(proc);
    const t = createProcessTracker({
      proc,
      scope: treeScope(child.pid!),
      hashes,
      logger: silentLogger(),
      countGaps: false,
    });
    const seen = new Map<number, string>();
    await waitFor('sh and its two sleeps', () => {
      for (const o of of(t.tick(Date.now()), 'process-start')) seen.set(o.process.pid, o.process.name);
      // a child read between fork and exec is `sh` first, then a process-start as `sleep` in the same PID
      return (seen.size >= 3 && [...seen.values()].filter((n) => n === 'sleep').length >= 2) || undefined;
    });
    expect([...seen.values()].sort()).toEqual(['sh', 'sleep', 'sleep']);
    const sleeps = [...t.processes().values()].filter((p) => p.name === 'sleep');
    expect(sleeps[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sleeps[0]!.sha256).toBe(sleeps[1]!.sha256);
    expect(hashes.hashed).toBe(2); // sh and sleep, each once
    child.kill('SIGKILL');
    for (const p of sleeps) process.kill(p.pid, 'SIGKILL');
    const exits: number[] = [];
    await waitFor('the exits of sh and the sleeps', () => {
      exits.push(...of(t.tick(Date.now()), 'process-exit').map((e) => e.process.pid));
      return exits.length >= 3 || undefined;
    });
    expect(exits.sort()).toEqual([child.pid!, ...sleeps.map((p) => p.pid)].sort());
  });
});
