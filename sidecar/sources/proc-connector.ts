import type { Stats } from 'node:fs';
import type { Logger } from '../../shared/logging/index.ts';
import { parseCmdline, parseStat, parseStatus, type ProcFs, type ProcStat, type ProcStatus } from './proc/index.ts';

/**
 * The kernel proc connector (host-agent mode): a netlink socket (NETLINK_CONNECTOR, group CN_IDX_PROC)
 * on which the kernel reports every fork, exec, uid change, ptrace and exit, so no short-lived process
 * is missed the way a /proc poller misses it. Works only in the host's PID and network namespaces, with
 * CAP_NET_ADMIN; elsewhere `openProcConnector` reports why and the caller polls /proc instead.
 *
 * It plugs into the watcher's own pipeline instead of running a parallel one: `view()` is a `ProcFs` for
 * the process tracker. On each exec the socket thread (a worker of its own, real-time priority when allowed)
 * reads the new process's /proc entries at once (a snapshot); the view lists those PIDs on the tracker's next
 * tick even if they are already gone, and answers from the snapshot what /proc no longer has. The tracker,
 * scopes, rules and outputs are unchanged. This file is the only user of the `netlink` package (loaded in
 * the socket thread).
 */

export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;
const NLMSG_DONE = 3;
const NLMSG_HDRLEN = 16;
const CN_MSG_LEN = 20;

export type ProcEvent =
  | { what: 'fork'; timestampNs: bigint; parentPid: number; parentTgid: number; childPid: number; childTgid: number }
  | { what: 'exec'; timestampNs: bigint; pid: number; tgid: number }
  | { what: 'uid' | 'gid'; timestampNs: bigint; pid: number; tgid: number; real: number; effective: number }
  | { what: 'ptrace'; timestampNs: bigint; pid: number; tgid: number; tracerPid: number; tracerTgid: number }
  | { what: 'comm'; timestampNs: bigint; pid: number; tgid: number; comm: string }
  | { what: 'exit'; timestampNs: bigint; pid: number; tgid: number; exitCode: number; exitSignal: number }
  | { what: 'ack' | 'other'; timestampNs: bigint; code: number };

const WHAT = {
  NONE: 0x0,
  FORK: 0x1,
  EXEC: 0x2,
  UID: 0x4,
  GID: 0x40,
  PTRACE: 0x100,
  COMM: 0x200,
  EXIT: 0x80000000,
} as const;

/** The PROC_CN_MCAST_LISTEN (or IGNORE) request: nlmsghdr + cn_msg + the 4-byte op. */
export function listenMessage(localPort: number, op = PROC_CN_MCAST_LISTEN): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN + CN_MSG_LEN + 4);
  buf.writeUInt32LE(buf.length, 0); // nlmsg_len
  buf.writeUInt16LE(NLMSG_DONE, 4); // nlmsg_type
  buf.writeUInt16LE(0, 6); // nlmsg_flags
  buf.writeUInt32LE(0, 8); // nlmsg_seq
  buf.writeUInt32LE(localPort >>> 0, 12); // nlmsg_pid
  buf.writeUInt32LE(CN_IDX_PROC, 16); // cb_id.idx
  buf.writeUInt32LE(CN_VAL_PROC, 20); // cb_id.val
  buf.writeUInt32LE(0, 24); // seq
  buf.writeUInt32LE(0, 28); // ack
  buf.writeUInt16LE(4, 32); // len
  buf.writeUInt16LE(0, 34); // flags
  buf.writeUInt32LE(op, 36);
  return buf;
}

/**
 * Parses one datagram from the connector socket: one or more netlink messages, each a cn_msg holding a
 * `struct proc_event`. Records that are too short or not from CN_IDX_PROC are skipped and counted in
 * `skipped`; this is kernel input, but a bad record must never throw.
 */
export function parseProcEvents(buf: Buffer): { events: ProcEvent[]; skipped: number } {
  const events: ProcEvent[] = [];
  let skipped = 0;
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(offset);
    if (len < NLMSG_HDRLEN || offset + len > buf.length) {
      skipped++;
      break;
    }
    const cn = offset + NLMSG_HDRLEN;
    const payload = cn + CN_MSG_LEN;
    const end = offset + len;
    offset += (len + 3) & ~3;
    if (payload > end || buf.readUInt32LE(cn) !== CN_IDX_PROC || buf.readUInt32LE(cn + 4) !== CN_VAL_PROC) {
      skipped++;
      continue;
    }
    const dataLen = buf.readUInt16LE(cn + 16);
    const event = parseProcEvent(buf.subarray(payload, Math.min(end, payload + dataLen)));
    if (event) events.push(event);
    else skipped++;
  }
  return { events, skipped };
}

function parseProcEvent(d: Buffer): ProcEvent | undefined {
  if (d.length < 16) return undefined;
  const what = d.readUInt32LE(0);
  const timestampNs = d.readBigUInt64LE(8);
  const u = (i: number): number | undefined => (d.length >= 16 + 4 * (i + 1) ? d.readUInt32LE(16 + 4 * i) : undefined);
  const need = (n: number): number[] | undefined => {
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = u(i);
      if (v === undefined) return undefined;
      values.push(v);
    }
    return values;
  };
  switch (what) {
    case WHAT.NONE:
      return { what: 'ack', timestampNs, code: u(0) ?? 0 };
    case WHAT.FORK: {
      const v = need(4);
      return v && { what: 'fork', timestampNs, parentPid: v[0]!, parentTgid: v[1]!, childPid: v[2]!, childTgid: v[3]! };
    }
    case WHAT.EXEC: {
      const v = need(2);
      return v && { what: 'exec', timestampNs, pid: v[0]!, tgid: v[1]! };
    }
    case WHAT.UID:
    case WHAT.GID: {
      const v = need(4);
      return (
        v && {
          what: what === WHAT.UID ? 'uid' : 'gid',
          timestampNs,
          pid: v[0]!,
          tgid: v[1]!,
          real: v[2]!,
          effective: v[3]!,
        }
      );
    }
    case WHAT.PTRACE: {
      const v = need(4);
      return v && { what: 'ptrace', timestampNs, pid: v[0]!, tgid: v[1]!, tracerPid: v[2]!, tracerTgid: v[3]! };
    }
    case WHAT.COMM: {
      const v = need(2);
      if (!v || d.length < 24 + 16) return undefined;
      const raw = d.subarray(24, 40);
      const nul = raw.indexOf(0);
      return {
        what: 'comm',
        timestampNs,
        pid: v[0]!,
        tgid: v[1]!,
        comm: raw.subarray(0, nul < 0 ? 16 : nul).toString('latin1'),
      };
    }
    case WHAT.EXIT: {
      const v = need(4);
      return v && { what: 'exit', timestampNs, pid: v[0]!, tgid: v[1]!, exitCode: v[2]!, exitSignal: v[3]! };
    }
    default:
      return { what: 'other', timestampNs, code: what };
  }
}

/** The socket side, behind a small interface so the parsing and snapshot logic is testable on its own. */
export interface ProcEventStream {
  /** scheduling of the socket thread: 'SCHED_FIFO 1', 'nice -20' or 'normal' (no CAP_SYS_NICE) */
  readonly priority: string;
  close(): void;
}

/**
 * What the socket thread read of an exec'd process the moment its event arrived, raw (parsed on the main
 * thread with the ProcFs parsers). Anything the process no longer had is absent.
 */
export interface RawExecRead {
  tgid: number;
  exe?: string;
  cmdline?: Uint8Array;
  exeStat?: { dev: number; ino: number; mode: number; uid: number; gid: number; size: number; mtimeMs: number };
  stat?: string;
  cgroup?: string;
  status?: string;
  cwd?: string;
  fds?: [number, string][];
}

/**
 * The socket runs in a worker thread of its own, so the kernel's exec events are read, and the new process's
 * /proc entries with them, while the main thread is busy (a tick, rules, outputs): a 1 ms program is gone a
 * millisecond after its exec, and a main thread that answers a few milliseconds late reads nothing. Plain
 * JavaScript evaluated in the worker (no file to locate next to a bundle); it reads in the order the kernel
 * takes things away at exit: the exe link and argv (the memory map) first, then what a zombie keeps.
 */
const SOCKET_THREAD = `(() => {
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { RawNetlinkSocket } = require(workerData.netlink);
const root = workerData.procRoot;
const text = (f) => { try { return fs.readFileSync(f, 'latin1'); } catch { return undefined; } };
const link = (f) => { try { return fs.readlinkSync(f); } catch { return undefined; } };
function read(tgid) {
  const dir = root + '/' + tgid + '/';
  const r = { tgid };
  r.exe = link(dir + 'exe');
  try { r.cmdline = fs.readFileSync(dir + 'cmdline'); } catch {}
  if (r.exe !== undefined) {
    try {
      const st = fs.statSync(dir + 'exe');
      r.exeStat = { dev: st.dev, ino: st.ino, mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, mtimeMs: st.mtimeMs };
    } catch {}
  }
  r.stat = text(dir + 'stat');
  if (r.stat === undefined) return r;
  r.cgroup = text(dir + 'cgroup');
  r.status = text(dir + 'status');
  r.cwd = link(dir + 'cwd');
  try {
    const fds = [];
    for (const name of fs.readdirSync(dir + 'fd')) {
      const target = link(dir + 'fd/' + name);
      if (target !== undefined && /^\\d+$/.test(name)) fds.push([Number(name), target]);
    }
    r.fds = fds;
  } catch {}
  return r;
}
let socket;
try {
  socket = new RawNetlinkSocket(${NETLINK_CONNECTOR}, {
    recvBufferSize: 8 * 1024 * 1024,
    sendBufferSize: 64 * 1024,
    messagePeeking: false,
    msgBufferSize: 4096,
  });
  socket.addMembership(${CN_IDX_PROC});
} catch (error) {
  parentPort.postMessage({ type: 'failed', message: error && error.message ? error.message : String(error) });
  if (socket) socket.close();
  return;
}
// Scheduling: a reader that wakes a millisecond late on a busy host finds a 1 ms program gone. Real-time
// (SCHED_FIFO, lowest priority, through util-linux chrt; needs CAP_SYS_NICE) when it can, else nice -20, else
// as is. Over 5000 execs in a second (a fork storm) it steps down to nice -20 so it cannot hog a core.
const tid = (() => { try { return fs.readlinkSync('/proc/thread-self').split('/').pop(); } catch { return undefined; } })();
const nice = () => { try { require('node:os').setPriority(Number(tid), -20); return 'nice -20'; } catch { return 'normal'; } };
let priority = 'normal';
if (tid !== undefined) {
  try {
    require('node:child_process').execFileSync('chrt', ['-f', '-p', '1', tid], { stdio: 'ignore', timeout: 2000 });
    priority = 'SCHED_FIFO 1';
  } catch {
    priority = nice();
  }
}
let windowStart = Date.now();
let inWindow = 0;
const pace = () => {
  if (priority !== 'SCHED_FIFO 1' || ++inWindow < 5000) return;
  const now = Date.now();
  if (now - windowStart < 1000) {
    try { require('node:child_process').execFileSync('chrt', ['-o', '-p', '0', tid], { stdio: 'ignore', timeout: 2000 }); } catch {}
    priority = nice() + ' (SCHED_FIFO dropped: over 5000 execs in a second)';
    parentPort.postMessage({ type: 'priority', priority });
  }
  windowStart = now;
  inWindow = 0;
};
const request = (template) => {
  const msg = Buffer.from(template);
  msg.writeUInt32LE(socket.address().port >>> 0, 12);
  return msg;
};
socket.on('message', (buf) => {
  pace();
  const reads = [];
  if (root !== undefined) {
    for (let off = 0; off + 36 + 24 <= buf.length; ) {
      const len = buf.readUInt32LE(off);
      if (len < 16) break;
      if (buf.readUInt32LE(off + 36) === 2) reads.push(read(buf.readUInt32LE(off + 56)));
      off += (len + 3) & ~3;
    }
  }
  parentPort.postMessage({ type: 'message', buf, reads });
});
socket.on('truncatedMessage', () => parentPort.postMessage({ type: 'truncated' }));
socket.on('error', (error) => parentPort.postMessage({ type: 'error', message: error.message }));
parentPort.on('message', (m) => {
  if (m.type !== 'close') return;
  try { socket.send(request(workerData.ignore), { port: 0 }); } catch {}
  socket.close();
  parentPort.close();
});
socket.send(request(workerData.listen), { port: 0 }, (error) =>
  error ? parentPort.postMessage({ type: 'failed', message: error.message }) : parentPort.postMessage({ type: 'sent', priority }),
);
})();
`;

/**
 * Opens the connector (in a worker thread) and subscribes. Resolves with the stream, or rejects with the reason it
 * is not available here (not Linux, the addon does not load, EPERM outside the host namespaces, ...). With
 * `procRoot`, each exec event comes with what the socket thread read of the process at once (`reads`, by tgid).
 */
export async function openProcConnector(handlers: {
  onEvents(events: ProcEvent[], skipped: number, reads?: ReadonlyMap<number, RawExecRead>): void;
  onError(error: Error): void;
  procRoot?: string;
}): Promise<ProcEventStream> {
  if (process.platform !== 'linux') throw new Error(`the proc connector needs Linux (this is ${process.platform})`);
  const [{ Worker }, { createRequire }] = await Promise.all([import('node:worker_threads'), import('node:module')]);
  const netlink = createRequire(import.meta.url).resolve('netlink');
  const worker = new Worker(SOCKET_THREAD, {
    eval: true,
    workerData: {
      netlink,
      procRoot: handlers.procRoot,
      listen: listenMessage(0),
      ignore: listenMessage(0, PROC_CN_MCAST_IGNORE),
    },
    // the loader hooks of a test runner or tsx are not for this plain-JS thread
    execArgv: [],
  });
  // The kernel acks the listen request with a PROC_EVENT_NONE whose data is an errno (0 = ok); a missing
  // ack or a non-zero one means we will never get events (e.g. not in the initial PID namespace).
  let settled = false;
  let closed = false;
  let priority = 'normal';
  const acked = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail('no acknowledgement from the proc connector within 1 s'), 1000);
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(message));
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'failed') fail(m.message);
      else if (m.type === 'sent' || m.type === 'priority') priority = m.priority;
      else if (m.type === 'error') handlers.onError(new Error(m.message));
      else if (m.type === 'truncated') handlers.onEvents([], 1);
      else if (m.type === 'message') {
        const { events, skipped } = parseProcEvents(Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength));
        if (!settled) {
          const ack = events.find((e) => e.what === 'ack');
          if (ack && ack.what === 'ack') {
            settled = true;
            clearTimeout(timer);
            if (ack.code === 0) resolve();
            else reject(new Error(`the proc connector refused to listen (errno ${ack.code})`));
          }
        }
        const reads = m.reads.length === 0 ? undefined : new Map(m.reads.map((r) => [r.tgid, r]));
        if (!closed) handlers.onEvents(events, skipped, reads);
      }
    });
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`the proc connector thread ended (exit ${code})`));
  });
  const close = (): void => {
    if (closed) return;
    closed = true;
    worker.postMessage({ type: 'close' });
    // it ends by itself once the socket is closed; this only bounds it
    setTimeout(() => void worker.terminate(), 1000).unref();
  };
  try {
    await acked;
  } catch (error) {
    close();
    await worker.terminate();
    throw error;
  }
  return {
    get priority() {
      return priority;
    },
    close,
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

type WorkerMessage =
  | { type: 'failed' | 'error'; message: string }
  | { type: 'sent' | 'priority'; priority: string }
  | { type: 'truncated' }
  | { type: 'message'; buf: Uint8Array; reads: RawExecRead[] };

/** What the connector read of a process at the moment it exec'd. */
interface Snapshot {
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

export interface ProcConnector {
  /** 'proc-connector' when kernel events flow, else 'proc-poll' (with `reason`). */
  readonly mode: 'proc-connector' | 'proc-poll';
  readonly reason: string | undefined;
  /** scheduling of the socket thread (see openProcConnector); undefined when polling */
  readonly readerPriority: string | undefined;
  readonly stats: ProcConnectorStats;
  /** A ProcFs for one process tracker: /proc plus every exec'd PID since this view's last listing. */
  view(): ProcFs;
  /**
   * Called after each exec snapshot of an interesting process (a watcher can tick at once instead of waiting
   * for its next period: lower detection latency); returns an unsubscribe function.
   */
  onSnapshot(listener: (pid: number) => void): () => void;
  /** Subscribes to raw events (e.g. for uid changes or benchmarks); returns an unsubscribe function. */
  onEvent(listener: (event: ProcEvent, receivedAtMs: number) => void): () => void;
  close(): void;
}

export interface ProcConnectorOptions {
  proc: ProcFs;
  logger: Logger;
  /** Snapshots older than this are forgotten (default 30 s). */
  retainMs?: number;
  /** Set false to skip the kernel socket (e.g. `--no-proc-connector`): polling only. */
  enabled?: boolean;
  /** The socket opener; default `openProcConnector` (a test passes a failing one to exercise the fallback). */
  open?: typeof openProcConnector;
  /**
   * Which exec'd processes are worth a snapshot, decided from their cgroup text (host agent: only
   * processes in a container). Default: all. Saves the reads for host processes nobody watches.
   */
  interesting?: (cgroup: string | undefined) => boolean;
  now?: () => number;
}

/** Opens the connector when it can, else falls back to plain polling of `proc`; never throws for that. */
export async function createProcConnector(options: ProcConnectorOptions): Promise<ProcConnector> {
  const { proc, logger } = options;
  const retainMs = options.retainMs ?? 30_000;
  const now = options.now ?? Date.now;
  const stats: ProcConnectorStats = {
    execs: 0,
    forks: 0,
    exits: 0,
    unreadable: 0,
    partial: 0,
    skipped: 0,
    errors: 0,
  };
  const snapshots = new Map<number, Snapshot>();
  /** exec'd PIDs in arrival order with a sequence number; views keep a cursor into it */
  const log: { seq: number; pid: number; execNs: bigint }[] = [];
  let seq = 0;
  const listeners = new Set<(event: ProcEvent, atMs: number) => void>();
  const snapshotListeners = new Set<(pid: number) => void>();

  /** The socket thread's reads of an exec'd process, parsed like ProcFs parses them; undefined: it read nothing. */
  const fromRaw = (r: RawExecRead): Omit<Snapshot, 'pid' | 'atMs'> => {
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
  };

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

  const prune = (): void => {
    const cutoff = now() - retainMs;
    for (const [pid, snap] of snapshots) if (snap.atMs < cutoff) snapshots.delete(pid);
    while (log.length > 0 && log.length > 65_536) log.shift();
    while (log.length > 0 && !snapshots.has(log[0]!.pid)) log.shift();
  };

  const onEvents = (events: ProcEvent[], skipped: number, reads?: ReadonlyMap<number, RawExecRead>): void => {
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
  };

  let stream: ProcEventStream | undefined;
  let reason: string | undefined;
  if (options.enabled === false) reason = 'disabled by configuration';
  else {
    try {
      stream = await (options.open ?? openProcConnector)({
        onEvents,
        procRoot: proc.root,
        onError: (error) => {
          stats.errors++;
          logger.warn('proc connector socket error (events may have been dropped)', { error: error.message });
        },
      });
    } catch (error) {
      reason = `kernel proc connector unavailable: ${error instanceof Error ? error.message : String(error)}`;
      logger.warn(`${reason}; falling back to /proc polling (short-lived processes can be missed)`);
    }
  }

  /** The snapshot for `pid` when it describes the same process instance as `live` (or /proc lost it). */
  const snapFor = (pid: number): Snapshot | undefined => snapshots.get(pid);
  const gone = (pid: number, live: ProcStat | undefined): boolean => {
    const snap = snapFor(pid);
    if (!snap?.stat) return false;
    if (live === undefined) return true;
    return live.startTicks === snap.stat.startTicks && live.state === 'Z';
  };

  const view = (): ProcFs => {
    let cursor = seq;
    let listed = new Set<number>();
    let listedAtNs = 0n;
    /** PIDs withheld from the last listing because they exec'd a new program; listed again now. */
    const reexecs = new Set<number>();
    if (stream === undefined) return proc;
    return {
      root: proc.root,
      get skipped() {
        return proc.skipped;
      },
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
          if (!present.has(pid) && snapshots.has(pid)) {
            present.add(pid);
            live.push(pid);
          }
        }
        const withheld = new Set<number>();
        const fresh = new Map<number, bigint>();
        for (let i = log.length - 1; i >= 0 && log[i]!.seq > cursor; i--)
          if (!fresh.has(log[i]!.pid)) fresh.set(log[i]!.pid, log[i]!.execNs);
        for (const [pid, execNs] of fresh) {
          if (!snapshots.has(pid)) continue;
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
        cursor = seq;
        prune();
        return out;
      },
      stat(pid) {
        const live = proc.stat(pid);
        return gone(pid, live) ? snapFor(pid)?.stat : live;
      },
      status(pid) {
        const live = proc.stat(pid);
        return gone(pid, live) ? snapFor(pid)?.status : proc.status(pid);
      },
      cmdline(pid) {
        const live = proc.cmdline(pid);
        return live !== undefined && live.length > 0 ? live : (snapFor(pid)?.cmdline ?? live);
      },
      exe: (pid) => proc.exe(pid) ?? snapFor(pid)?.exe,
      exeStat: (pid) => proc.exeStat(pid) ?? snapFor(pid)?.exeStat,
      exeSha256: (pid) => proc.exeSha256(pid),
      cwd: (pid) => proc.cwd(pid) ?? snapFor(pid)?.cwd,
      cgroup: (pid) => proc.cgroup(pid) ?? snapFor(pid)?.cgroup,
      fds: (pid) => proc.fds(pid) ?? snapFor(pid)?.fds,
      fdFlags: (pid, fd) => proc.fdFlags(pid, fd),
      tasks: (pid) => proc.tasks(pid),
      net: (pid, protocol, family) => proc.net(pid, protocol, family),
      readRootFile: (pid, path) => proc.readRootFile(pid, path),
      rootStat: (pid, path) => proc.rootStat(pid, path),
      listRootDir: (pid, path) => proc.listRootDir(pid, path),
      bootTimeMs: () => proc.bootTimeMs(),
    };
  };

  return {
    get mode() {
      return stream === undefined ? 'proc-poll' : 'proc-connector';
    },
    reason,
    get readerPriority() {
      return stream?.priority;
    },
    stats,
    view,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onSnapshot(listener) {
      snapshotListeners.add(listener);
      return () => snapshotListeners.delete(listener);
    },
    close() {
      stream?.close();
      stream = undefined;
      listeners.clear();
      snapshotListeners.clear();
      snapshots.clear();
    },
  };
}
