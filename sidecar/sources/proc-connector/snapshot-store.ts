import type { Stats } from 'node:fs';
import { parseCmdline, parseStat, parseStatus, type ProcFs, type ProcStat, type ProcStatus } from '../proc/index.ts';
import type { RawExecRead } from './messages.ts';
import type { ProcEvent } from './wire.ts';

/**
 * What the proc connector read of each exec'd process the moment its event arrived (a snapshot), kept for
 * `retainMs`, and the exec'd PIDs in arrival order (the log views keep a cursor into). The kernel's events come
 * in through `onEvents`; views (snapshot-view.ts) answer from here what /proc no longer has.
 */
export interface Snapshot {
  pid: number;
  atMs: number;
  stat?: ProcStat;
  status?: ProcStatus;
  cmdline?: string[];
  exe?: string;
  exeStat?: Stats;
  cwd?: string;
  cgroup?: string;
  fds?: Map<number, string>;
}

export interface ProcConnectorStats {
  /** exec events received from the kernel */
  execs: number;
  forks: number;
  exits: number;
  /** execs whose process was already gone (and reaped) when we read /proc: seen, without details */
  unreadable: number;
  /**
   * execs of a watched process read too late for the program: it had exited (a zombie not yet reaped), so its
   * exe link or argv was gone; reported with what the zombie keeps (comm, ppid, uids, cgroup)
   */
  partial: number;
  /** records that failed to parse */
  skipped: number;
  /** socket errors (e.g. ENOBUFS: the kernel dropped events because we were too slow) */
  errors: number;
}

export interface ExecLogEntry {
  seq: number;
  pid: number;
  execNs: bigint;
}

export interface SnapshotStore {
  readonly stats: ProcConnectorStats;
  /** the sequence number of the last exec logged */
  readonly seq: number;
  /** exec'd PIDs in arrival order, oldest first */
  readonly log: readonly ExecLogEntry[];
  get(pid: number): Snapshot | undefined;
  has(pid: number): boolean;
  /** The kernel's events (with the socket thread's reads of exec'd processes, by tgid). */
  onEvents(events: readonly ProcEvent[], skipped: number, reads?: ReadonlyMap<number, RawExecRead>): void;
  /** Called after each snapshot of an interesting process; returns an unsubscribe function. */
  onSnapshot(listener: (pid: number) => void): () => void;
  onEvent(listener: (event: ProcEvent, receivedAtMs: number) => void): () => void;
  /** Forgets snapshots older than `retainMs` and log entries without a snapshot. */
  prune(): void;
  clear(): void;
}

export function createSnapshotStore(options: {
  proc: ProcFs;
  retainMs: number;
  interesting?: (cgroup: string | undefined) => boolean;
  now: () => number;
}): SnapshotStore {
  const { proc, now } = options;
  const stats: ProcConnectorStats = { execs: 0, forks: 0, exits: 0, unreadable: 0, partial: 0, skipped: 0, errors: 0 };
  const snapshots = new Map<number, Snapshot>();
  const log: ExecLogEntry[] = [];
  let seq = 0;
  const listeners = new Set<(event: ProcEvent, atMs: number) => void>();
  const snapshotListeners = new Set<(pid: number) => void>();

  /** Reads the exec'd process here (when the socket thread did not). */
  const readNow = (pid: number): Omit<Snapshot, 'pid' | 'atMs'> => {
    // What identifies the program first: the exe link and argv hang on the process's memory map, which goes at
    // exit (a 1 ms program exits a millisecond after its exec), while a zombie keeps stat, status and cgroup.
    const exe = proc.exe(pid);
    const cmdline = proc.cmdline(pid);
    const exeStat = exe === undefined ? undefined : proc.exeStat(pid);
    const stat = proc.stat(pid);
    if (!stat) return { exe, cmdline, exeStat };
    return {
      exe,
      cmdline,
      exeStat,
      stat,
      cgroup: proc.cgroup(pid),
      status: proc.status(pid),
      cwd: proc.cwd(pid),
      fds: proc.fds(pid),
    };
  };

  const snapshot = (pid: number, execNs: bigint, raw: RawExecRead | undefined): void => {
    const read = raw === undefined ? readNow(pid) : fromRaw(raw);
    if (!read.stat) {
      stats.unreadable++;
      return;
    }
    if (options.interesting !== undefined && !options.interesting(read.cgroup)) return;
    // exited between the exec and the reads (or between two of them): the program's exe or argv is missing
    if (read.exe === undefined || read.cmdline === undefined || read.cmdline.length === 0) stats.partial++;
    snapshots.set(pid, { pid, atMs: now(), ...read });
    log.push({ seq: ++seq, pid, execNs });
    for (const listener of snapshotListeners) listener(pid);
  };

  return {
    stats,
    get seq() {
      return seq;
    },
    log,
    get: (pid) => snapshots.get(pid),
    has: (pid) => snapshots.has(pid),
    onEvents(events, skipped, reads) {
      stats.skipped += skipped;
      const atMs = now();
      for (const event of events) {
        if (event.what === 'exec') {
          stats.execs++;
          snapshot(event.tgid, event.timestampNs, reads?.get(event.tgid));
        } else if (event.what === 'fork') stats.forks++;
        else if (event.what === 'exit' && event.pid === event.tgid) stats.exits++;
        for (const listener of listeners) listener(event, atMs);
      }
    },
    onSnapshot(listener) {
      snapshotListeners.add(listener);
      return () => snapshotListeners.delete(listener);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    prune() {
      const cutoff = now() - options.retainMs;
      for (const [pid, snap] of snapshots) if (snap.atMs < cutoff) snapshots.delete(pid);
      while (log.length > 65_536) log.shift();
      while (log.length > 0 && !snapshots.has(log[0]!.pid)) log.shift();
    },
    clear() {
      listeners.clear();
      snapshotListeners.clear();
      snapshots.clear();
    },
  };
}

/** The socket thread's reads of an exec'd process, parsed like ProcFs parses them. */
function fromRaw(r: RawExecRead): Omit<Snapshot, 'pid' | 'atMs'> {
  const stat = r.stat === undefined ? undefined : parseStat(r.stat);
  // latin1 keeps every byte; comm is re-decoded as UTF-8, as ProcFs does
  if (stat) stat.comm = Buffer.from(stat.comm, 'latin1').toString('utf8');
  return {
    stat,
    status: r.status === undefined ? undefined : parseStatus(r.status),
    cmdline: r.cmdline === undefined ? undefined : parseCmdline(Buffer.from(r.cmdline)),
    exe: r.exe,
    exeStat: r.exeStat === undefined ? undefined : statsOf(r.exeStat),
    cwd: r.cwd,
    cgroup: r.cgroup,
    fds: r.fds === undefined ? undefined : new Map(r.fds),
  };
}

/** The Stats fields the tracker and the hash cache use, from the socket thread's copy (a clone has no methods). */
function statsOf(raw: NonNullable<RawExecRead['exeStat']>): Stats {
  const type = raw.mode & 0o170000;
  return {
    ...raw,
    isFile: () => type === 0o100000,
    isDirectory: () => type === 0o040000,
    isSymbolicLink: () => type === 0o120000,
  } as unknown as Stats;
}
