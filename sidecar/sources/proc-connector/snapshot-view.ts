import { decorateProcFs, type ProcFs, type ProcStat } from '../proc/index.ts';
import type { SnapshotStore } from './snapshot-store.ts';

/**
 * A ProcFs for one process tracker: /proc, plus every PID exec'd since this view's last listing, answered from
 * its snapshot where /proc no longer has it (the process was gone before the tracker's tick). Every member it
 * does not answer itself goes to /proc unchanged (decorateProcFs).
 */
export function snapshotView(proc: ProcFs, store: SnapshotStore): ProcFs {
  let cursor = store.seq;
  let listed = new Set<number>();
  let listedAtNs = 0n;
  /** PIDs withheld from the last listing because they exec'd a new program; listed again now. */
  const reexecs = new Set<number>();

  /** The snapshot answers for `pid` when /proc lost the process, or holds only its zombie. */
  const gone = (pid: number, live: ProcStat | undefined): boolean => {
    const snap = store.get(pid);
    if (!snap?.stat) return false;
    if (live === undefined) return true;
    return live.startTicks === snap.stat.startTicks && live.state === 'Z';
  };

  return decorateProcFs(proc, {
    listPids() {
      const live = proc.listPids();
      const present = new Set(live);
      // An exec in a PID this view already listed (`sh -c 'exec prog'`, busybox running its last command in
      // place, a child listed between fork and exec) is a new program in an old PID: the tracker would never
      // look again. Leave it out of this listing (the tracker sees the old program exit) and list it again
      // next time (the tracker reads the new program, live or from the snapshot).
      const again = [...reexecs];
      reexecs.clear();
      for (const pid of again) {
        if (!present.has(pid) && store.has(pid)) {
          present.add(pid);
          live.push(pid);
        }
      }
      const withheld = new Set<number>();
      const fresh = new Map<number, bigint>();
      const { log } = store;
      for (let i = log.length - 1; i >= 0 && log[i]!.seq > cursor; i--)
        if (!fresh.has(log[i]!.pid)) fresh.set(log[i]!.pid, log[i]!.execNs);
      for (const [pid, execNs] of fresh) {
        if (!store.has(pid)) continue;
        // Kernel timestamps and hrtime are both CLOCK_MONOTONIC: only an exec after our last listing is a re-exec.
        if (listed.has(pid) && execNs > listedAtNs) withheld.add(pid);
        else if (!present.has(pid)) {
          present.add(pid);
          live.push(pid);
        }
      }
      for (const pid of withheld) reexecs.add(pid);
      const out = withheld.size === 0 ? live : live.filter((pid) => !withheld.has(pid));
      listed = new Set(out);
      listedAtNs = process.hrtime.bigint();
      cursor = store.seq;
      store.prune();
      return out;
    },
    stat(pid) {
      const live = proc.stat(pid);
      return gone(pid, live) ? store.get(pid)?.stat : live;
    },
    status(pid) {
      const live = proc.stat(pid);
      return gone(pid, live) ? store.get(pid)?.status : proc.status(pid);
    },
    cmdline(pid) {
      const live = proc.cmdline(pid);
      return live !== undefined && live.length > 0 ? live : (store.get(pid)?.cmdline ?? live);
    },
    exe: (pid) => proc.exe(pid) ?? store.get(pid)?.exe,
    exeStat: (pid) => proc.exeStat(pid) ?? store.get(pid)?.exeStat,
    cwd: (pid) => proc.cwd(pid) ?? store.get(pid)?.cwd,
    cgroup: (pid) => proc.cgroup(pid) ?? store.get(pid)?.cgroup,
    fds: (pid) => proc.fds(pid) ?? store.get(pid)?.fds,
  });
}
