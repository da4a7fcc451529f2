import { appendFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStatus } from '../../sidecar/sources/proc/index.ts';
import { createResourceSource } from '../../sidecar/sources/resource-source.ts';
import { createSocketSource } from '../../sidecar/sources/socket-source.ts';
import type { Observation } from '../../sidecar/sources/types.ts';
import { FixtureProc, fixtureTracker, TCP_HEADER } from './fixture-proc.ts';

/**
 * The shortcuts that keep the watcher's overhead down must not hide anything for long: the socket
 * tables are skipped while the namespace's counters stand still (but read at least every 5 s), and
 * an idle process's fds are skipped until it runs again.
 */
const of = <T extends Observation['type']>(obs: Observation[], type: T) =>
  obs.filter((o): o is Extract<Observation, { type: T }> => o.type === type);

const LISTEN = '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1\n';
const EGRESS = '   1: 0100007F:C000 0100007F:0016 01 00000000:00000000 00:00000000 00000000     0        0 7002 1\n';
const sockstat = (inuse: number) =>
  `sockets: used 9\nTCP: inuse ${inuse} orphan 0 tw 0 alloc ${inuse} mem ${inuse * 3}\nUDP: inuse 0 mem 0\n`;

describe('socket tables: read when the counters move, and at least every 5 s', () => {
  it('a new connection with unchanged counters waits for the 5 s read; changed counters are read at once', () => {
    const g = new FixtureProc();
    try {
      g.add({ pid: 50, fds: { 3: 'socket:[7001]', 4: 'socket:[7002]' }, net: { tcp: TCP_HEADER + LISTEN } });
      const net = (f: string) => join(g.root, '50', 'net', f);
      writeFileSync(net('sockstat'), sockstat(1));
      writeFileSync(net('sockstat6'), 'TCP6: inuse 0\n');
      const { proc, tracker } = fixtureTracker(g);
      tracker.tick(0);
      const sockets = createSocketSource({ proc, tracker, anchor: () => 50 });
      expect(of(sockets.poll(1000), 'connection').map((c) => c.direction)).toEqual(['listening']);
      // a line appears, the counters do not move (one closed and one opened within an interval)
      appendFileSync(net('tcp'), EGRESS);
      expect(sockets.poll(1300)).toEqual([]);
      expect(sockets.poll(5900)).toEqual([]);
      expect(of(sockets.poll(6200), 'connection').map((c) => [c.direction, c.socket.remotePort])).toEqual([
        ['egress', 22],
      ]);
      // buffer memory alone is not a change
      writeFileSync(net('sockstat'), sockstat(1).replace('mem 3', 'mem 99'));
      writeFileSync(net('tcp'), TCP_HEADER + LISTEN);
      expect(sockets.poll(6500)).toEqual([]);
      // the counters move: read at once (another connection, another inode, of the same process)
      symlinkSync('socket:[7003]', join(g.root, '50', 'fd', '5'));
      writeFileSync(net('tcp'), TCP_HEADER + LISTEN + EGRESS.replace(' 7002 ', ' 7003 ').replace(':0016', ':0050'));
      writeFileSync(net('sockstat'), sockstat(2));
      expect(of(sockets.poll(6800), 'connection').map((c) => [c.direction, c.socket.remotePort])).toEqual([
        ['egress', 80],
      ]);
    } finally {
      g.cleanup();
    }
  });
});

describe('fds of idle processes: read again only after the process ran', () => {
  it('a file opened while the context-switch count stands still is seen once the count moves', () => {
    const g = new FixtureProc();
    try {
      g.add({ pid: 60, comm: 'app', exe: '/bin/sh' });
      const status = join(g.root, '60', 'status');
      const switches = (n: number) =>
        appendFileSync(status, `voluntary_ctxt_switches:\t${n}\nnonvoluntary_ctxt_switches:\t1\n`);
      switches(5);
      const { tracker } = fixtureTracker(g);
      tracker.tick(0);
      expect(of(tracker.tick(1000), 'file-open')).toEqual([]);
      // fd 3 appears, the counters say the process has not run: the fds are not read
      symlinkSync('/etc/shadow', join(g.root, '60', 'fd', '3'));
      writeFileSync(join(g.root, '60', 'fdinfo', '3'), 'pos:\t0\nflags:\t0100000\nmnt_id:\t1\n');
      expect(of(tracker.tick(2000), 'file-open')).toEqual([]);
      // it ran
      writeFileSync(status, readStatusWithout(status));
      switches(6);
      expect(of(tracker.tick(3000), 'file-open').map((f) => f.path)).toEqual(['/etc/shadow']);
    } finally {
      g.cleanup();
    }
  });

  it('parses the context switches (voluntary + nonvoluntary)', () => {
    const s = parseStatus(
      'Name:\tx\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\nvoluntary_ctxt_switches:\t40\nnonvoluntary_ctxt_switches:\t2\n',
    );
    expect(s?.ctxtSwitches).toBe(42);
  });
});

describe('idle processes: skipped on the rescan until their schedstat moves', () => {
  it('an exec, a uid change and a new fd of a process that has not run are not looked for; once it ran they are', () => {
    const g = new FixtureProc();
    try {
      g.add({ pid: 70, comm: 'app', exe: '/bin/sh', uid: 1000, schedstat: '5000 10 3\n' });
      const { proc, tracker } = fixtureTracker(g);
      const resources = createResourceSource({ proc, tracker });
      expect(of(tracker.tick(0), 'process-start').map((s) => s.process.pid)).toEqual([70]);
      tracker.tick(1000); // first rescan: read in full, schedstat remembered
      expect(tracker.idle(70)).toBe(false);
      // behind the watcher's back, without the schedstat moving: uid 0, a new fd (a fixture can lie; a kernel cannot)
      const status = join(g.root, '70', 'status');
      writeFileSync(status, readFileSync(status, 'utf8').replace(/^Uid:.*$/m, 'Uid:\t0\t0\t0\t0'));
      symlinkSync('/etc/shadow', join(g.root, '70', 'fd', '3'));
      writeFileSync(join(g.root, '70', 'fdinfo', '3'), 'pos:\t0\nflags:\t0100000\nmnt_id:\t1\n');
      const idleTick = tracker.tick(2000);
      expect(tracker.idle(70)).toBe(true);
      expect(idleTick.filter((o) => o.type === 'process-uid-change' || o.type === 'file-open')).toEqual([]);
      // an idle process adds nothing to the container's CPU and keeps its last RSS
      const [usage] = resources.poll(2000);
      expect(usage).toMatchObject({ type: 'resources', processCount: 1, rssKiB: 1000, cpuPercent: 0 });
      // it ran: everything is read again
      writeFileSync(join(g.root, '70', 'schedstat'), '9000 10 4\n');
      const ranTick = tracker.tick(3000);
      expect(tracker.idle(70)).toBe(false);
      expect(of(ranTick, 'process-uid-change').map((u) => [u.fromEuid, u.toEuid])).toEqual([[1000, 0]]);
      expect(of(ranTick, 'file-open').map((f) => f.path)).toEqual(['/etc/shadow']);
    } finally {
      g.cleanup();
    }
  });

  it('a PID reused by another process is noticed (its schedstat differs)', () => {
    const g = new FixtureProc();
    try {
      g.add({ pid: 71, comm: 'old', exe: '/bin/sh', schedstat: '5000 10 3\n', startTicks: 1000 });
      const { tracker } = fixtureTracker(g);
      tracker.tick(0);
      tracker.tick(1000);
      g.add({ pid: 71, comm: 'new', exe: '/bin/nc', schedstat: '300 1 1\n', startTicks: 2000 });
      expect(of(tracker.tick(2000), 'process-exit').map((e) => e.process.comm)).toEqual(['old']);
      expect(of(tracker.tick(2100), 'process-start').map((s) => s.process.comm)).toEqual(['new']);
    } finally {
      g.cleanup();
    }
  });
});

function readStatusWithout(file: string): string {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !l.includes('ctxt_switches'))
    .join('\n');
}
