import type { Logger } from '../../shared/logging/index.ts';
import type { HashCache } from './hash-cache.ts';
import { CLOCK_TICKS, isWriteFlags, parsePasswd, socketInode, type ProcFs, type ProcStat } from './proc/index.ts';
import { programName } from '../normalize/program.ts';
import type { Scope } from './scope.ts';
import type { FdKind, Observation, ParentInfo, ProcessInfo } from './types.ts';

/**
 * The incremental process scanner: lists /proc every tick, reads details only for new PIDs,
 * notices exits, and counts PID gaps (PIDs allocated between two ticks that we never saw:
 * processes that lived and died in between). Every `rescanMs` it re-reads the cheap parts of
 * known processes (uid, TracerPid, open fds) to see uid changes, ptrace and files opened later.
 * It also owns the socket-inode → PID map used by the socket source.
 */
export interface ProcessTrackerOptions {
  proc: ProcFs;
  scope: Scope;
  hashes: HashCache;
  logger: Logger;
  /** Count PID gaps (meaningful only when we watch a whole PID namespace). */
  countGaps: boolean;
  /**
   * The watcher's own PID, as the watched namespace sees it: the parent of what `watch -- COMMAND` starts. Its
   * command line carries sealwatch's flags (`--output` credentials), so it is never read into an event.
   */
  selfPid?: number;
  rescanMs?: number;
  /** New processes are checked for an exec every tick for this long (default 2 s); older ones on each rescan. */
  execWindowMs?: number;
  /** Which open files become observations (default: regular paths outside /dev, /proc, /sys). */
  fileFilter?: (path: string) => boolean;
}

export interface ProcessTracker {
  tick(nowMs: number): Observation[];
  processes(): ReadonlyMap<number, ProcessInfo>;
  isWatched(pid: number): boolean;
  socketOwner(inode: number): ProcessInfo | undefined;
  /** Re-read every watched process's fds to map sockets (called when an unknown inode shows up). */
  refreshSockets(): void;
  /** The `/proc/<pid>/stat` this tracker read during its last tick, if it read one (so other sources need not read it again). */
  tickStat(pid: number): ProcStat | undefined;
  /**
   * True when this tick's rescan found the process had not run since the previous one (its CPU time and RSS are
   * those already in its ProcessInfo), so other sources need not read it either.
   */
  idle(pid: number): boolean;
  readonly stats: { ticks: number; seen: number; gaps: number; skipped: number };
}

const defaultFileFilter = (path: string): boolean =>
  path.startsWith('/') && !/^\/(dev|proc|sys)\//.test(path) && !path.startsWith('/memfd:');

export function createProcessTracker(options: ProcessTrackerOptions): ProcessTracker {
  const { proc, scope, hashes, logger } = options;
  const rescanMs = options.rescanMs ?? 1000;
  const execWindowMs = options.execWindowMs ?? 2000;
  const fileFilter = options.fileFilter ?? defaultFileFilter;
  const watched = new Map<number, ProcessInfo>();
  /** PIDs seen and out of scope, with their start ticks. */
  const ignored = new Map<number, number>();
  /**
   * Out-of-scope PIDs that may still come into it: a container runtime's exec stage (`docker exec`, `kubectl exec`)
   * is forked outside the container's cgroup, moved into it, then execs the program in the same PID. Listed before
   * the move, it would stay ignored while the program runs (1 `docker exec` in 5 on a busy host went unseen), so
   * these are looked at again every tick for `execWindowMs`.
   */
  const joining = new Map<number, { startTicks: number; sinceMs: number }>();
  const openFiles = new Map<number, Set<string>>();
  /**
   * what the process had run at the last full read (its schedstat, or every thread's for a multi-threaded one;
   * without schedstat, the context switches from status): a process that has not run since is skipped
   */
  const ranAt = new Map<number, number | string>();
  /** threads of each watched process at its last status read: one thread is judged by its own schedstat */
  const threadCount = new Map<number, number>();
  /** processes this tick's rescan found idle (not run since the last rescan) */
  let idleThisTick = new Set<number>();
  /** the same, at the last fd read for the socket map (refreshSockets) */
  const socketsReadAt = new Map<number, string>();
  /** the stat records read during the current tick */
  let tickStats = new Map<number, ProcStat>();
  const readStat = (pid: number): ProcStat | undefined => {
    const stat = proc.stat(pid);
    if (stat) tickStats.set(pid, stat);
    return stat;
  };
  /** when each watched PID was (re)read, and its exe link then: to notice an exec in a known PID */
  const identity = new Map<number, { readMs: number; rawExe: string | undefined }>();
  const sockets = new Map<number, number>();
  const users = new Map<string, Map<number, string>>();
  /** Everything kept about a watched PID, dropped in one place (it exited, its PID was reused, it left the scope). */
  const forget = (pid: number): void => {
    watched.delete(pid);
    openFiles.delete(pid);
    identity.delete(pid);
    ranAt.delete(pid);
    threadCount.delete(pid);
    socketsReadAt.delete(pid);
  };
  let lastRescan = 0;
  let maxNsPid = 0;
  const stats = { ticks: 0, seen: 0, gaps: 0, skipped: 0 };
  const isWatched = (pid: number): boolean => watched.has(pid);

  /** The passwd table of a process's root filesystem, cached by the file's identity. */
  const passwdOf = (pid: number): Map<number, string> | undefined => {
    const st = proc.rootStat(pid, 'etc/passwd');
    if (!st) return undefined;
    const key = `${st.dev}:${st.ino}:${st.mtimeMs}`;
    let table = users.get(key);
    if (!table) {
      table = parsePasswd(proc.readRootFile(pid, 'etc/passwd') ?? '');
      if (users.size > 64) users.clear();
      users.set(key, table);
    }
    return table;
  };
  /**
   * The user name of `uid` in the process's root; for a process already gone (a 1 ms `cat`), in its parent's
   * when the parent is watched too (the same container, so the same root; a `docker exec`'s parent is the
   * runtime's shim, outside). Without it a learned profile said `users: ["0"]` for the short-lived programs and
   * `["root"]` for the rest, and monitoring raised profile.user-not-allowed when the two met.
   */
  const userName = (pid: number, uid: number, ppid: number): string | undefined =>
    (passwdOf(pid) ?? (watched.has(ppid) ? passwdOf(ppid) : undefined))?.get(uid);

  const fdKind = (target: string | undefined): FdKind => {
    if (target === undefined) return 'none';
    if (target.startsWith('socket:')) return 'socket';
    if (target.startsWith('pipe:')) return 'pipe';
    if (target === '/dev/null') return 'null';
    if (/^\/dev\/(pts\/\d+|tty\w*|console)$/.test(target)) return 'tty';
    if (target.startsWith('/')) return 'file';
    return 'other';
  };

  const startIso = (ticks: number): string | undefined => {
    const boot = proc.bootTimeMs();
    return boot === undefined ? undefined : new Date(boot + (ticks * 1000) / CLOCK_TICKS).toISOString();
  };

  const readDetails = (stat: ProcStat): { info: ProcessInfo; fds: Map<number, string> } | undefined => {
    const status = proc.status(stat.pid);
    if (!status) return undefined;
    // An exec can land between two reads: the program and its command line are read as one pair (the exe
    // link again after the command line; when it moved, the command line again), so a shell's child is
    // never reported under the shell's argv with the new program's path.
    let rawExe = proc.exe(stat.pid);
    let args = proc.cmdline(stat.pid) ?? [];
    const exeAfter = proc.exe(stat.pid);
    if (exeAfter !== rawExe) {
      rawExe = exeAfter;
      args = proc.cmdline(stat.pid) ?? [];
    }
    const exeDeleted = rawExe?.endsWith(' (deleted)') ?? false;
    const exe = exeDeleted ? rawExe?.slice(0, -' (deleted)'.length) : rawExe;
    const exeMemfd = exe?.startsWith('/memfd:') ?? false;
    const exeStat = exe === undefined ? undefined : proc.exeStat(stat.pid);
    const fds = proc.fds(stat.pid);
    threadCount.set(stat.pid, status.threads);
    const info: ProcessInfo = {
      pid: stat.pid,
      nsPid: status.nsPids[status.nsPids.length - 1] ?? stat.pid,
      ppid: stat.ppid,
      session: stat.session,
      comm: stat.comm,
      name: programName(args, stat.comm),
      args,
      exe,
      exeDeleted,
      exeMemfd,
      exeSetuid: exeStat !== undefined && (exeStat.mode & 0o6000) !== 0,
      sha256: exe === undefined ? undefined : hashes.hashOf(stat.pid, exe),
      cwd: proc.cwd(stat.pid),
      uid: status.uids[0],
      euid: status.uids[1],
      gid: status.gids[0],
      user: userName(stat.pid, status.uids[1], stat.ppid),
      tracerPid: status.tracerPid,
      startTicks: stat.startTicks,
      start: startIso(stat.startTicks),
      stdin: fdKind(fds?.get(0)),
      stdout: fdKind(fds?.get(1)),
      rssKiB: status.vmRssKiB,
      cpuTicks: stat.utime + stat.stime,
    };
    return { info, fds: fds ?? new Map<number, string>() };
  };

  /** Maps socket inodes and returns file-open observations for fds not seen before. */
  const recordFds = (info: ProcessInfo, fds: Map<number, string>, out: Observation[]): void => {
    let seen = openFiles.get(info.pid);
    if (!seen) openFiles.set(info.pid, (seen = new Set()));
    for (const [fd, target] of fds) {
      const inode = socketInode(target);
      if (inode !== undefined) {
        sockets.set(inode, info.pid);
        continue;
      }
      if (!fileFilter(target)) continue;
      const key = `${fd}\0${target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const flags = proc.fdFlags(info.pid, fd);
      out.push({
        type: 'file-open',
        process: info,
        path: target,
        fd,
        write: flags !== undefined && isWriteFlags(flags),
      });
    }
  };

  const parentOf = (info: ProcessInfo): ParentInfo | undefined => {
    if (info.ppid === options.selfPid)
      return { pid: info.ppid, name: 'sealwatch', exe: proc.exe(info.ppid), euid: process.geteuid?.(), watcher: true };
    const known = watched.get(info.ppid);
    if (known) return { pid: known.pid, name: known.name, exe: known.exe, args: known.args, euid: known.euid };
    if (info.ppid === 0) return undefined;
    const stat = proc.stat(info.ppid);
    if (!stat) return { pid: info.ppid };
    const args = proc.cmdline(info.ppid) ?? [];
    const exe = proc.exe(info.ppid);
    return { pid: info.ppid, name: programName(args, stat.comm), exe, args, euid: proc.status(info.ppid)?.uids[1] };
  };

  /**
   * exec keeps the PID: a process seen as `runc init` or `sh` may have become something else.
   * Compare comm and the exe link; on a change read it again and report a new process-start.
   */
  const checkExec = (info: ProcessInfo, nowMs: number, out: Observation[]): void => {
    const stat = readStat(info.pid);
    if (!stat) return;
    if (stat.startTicks !== info.startTicks) {
      // PID reused by another process: report the old one's exit; the next tick reads the new one
      forget(info.pid);
      out.push({ type: 'process-exit', process: info });
      return;
    }
    const rawExe = proc.exe(info.pid);
    if (stat.comm === info.comm && rawExe === identity.get(info.pid)?.rawExe) return;
    // The runtime's exec stage can be listed before the runtime moved it into the container's cgroup (pod mode: a
    // HEALTHCHECK or docker exec into the sidecar's own container): decide again for the program it became.
    if (isRuntimeExecStage(info) && !scope.includes(stat, isWatched)) {
      forget(info.pid);
      ignored.set(info.pid, stat.startTicks);
      return;
    }
    const details = readDetails(stat);
    if (!details) return;
    watched.set(info.pid, details.info);
    identity.set(info.pid, { readMs: nowMs, rawExe });
    openFiles.delete(info.pid);
    stats.seen++;
    if (!isRuntimeExecStage(details.info)) {
      out.push({ type: 'process-start', process: details.info, parent: parentOf(details.info) });
    }
    recordFds(details.info, details.fds, out);
  };

  /**
   * What the process has run so far, from its schedstat (one thread) or every thread's (several), or
   * undefined where the kernel or the /proc view does not offer it.
   */
  const activity = (pid: number): string | undefined =>
    (threadCount.get(pid) ?? 1) === 1 ? proc.runTime?.(pid) : proc.threadActivity?.(pid);

  /**
   * Every `rescanMs`: each known process is checked for an exec, a uid change, a tracer, files opened since and
   * its RSS. A process that has not run since the last rescan is skipped: exec, setuid(2) and open(2) all need
   * it to run, and so does any use of a ptrace attach (a seized tracee must enter a ptrace-stop before it can be
   * read or changed). Idle processes then cost one read of a ~60-byte file each instead of stat, the exe link,
   * status and the fd table. Where schedstat is missing, the status context switches decide about the fds only.
   */
  const rescan = (nowMs: number, fresh: ReadonlySet<number>, out: Observation[]): void => {
    for (const info of [...watched.values()]) {
      if (fresh.has(info.pid)) continue;
      const ran = activity(info.pid);
      if (ran !== undefined && ranAt.get(info.pid) === ran) {
        idleThisTick.add(info.pid);
        continue;
      }
      checkExec(info, nowMs, out);
      const current = watched.get(info.pid);
      if (current === undefined) continue;
      if (current !== info) {
        // it exec'd: checkExec read it in full
        if (ran !== undefined) ranAt.set(info.pid, ran);
        continue;
      }
      const status = proc.status(info.pid);
      if (!status) continue;
      threadCount.set(info.pid, status.threads);
      info.rssKiB = status.vmRssKiB;
      if (status.uids[1] !== info.euid) {
        out.push({ type: 'process-uid-change', process: { ...info }, fromEuid: info.euid, toEuid: status.uids[1] });
        info.euid = status.uids[1];
        info.uid = status.uids[0];
        info.user = userName(info.pid, info.euid, info.ppid);
      }
      if (status.tracerPid !== info.tracerPid) {
        info.tracerPid = status.tracerPid;
        if (status.tracerPid !== 0) out.push({ type: 'process-traced', process: info, tracerPid: status.tracerPid });
      }
      // Only a process that ran can have opened or closed a file (a shared fd table without a shared
      // thread group, CLONE_FILES alone, is the rare exception). Threads' switches are not in the
      // main thread's counters, so a multi-threaded process is judged by the run time of every thread
      // (and read every time when that is not available).
      const switches = ran ?? (status.threads === 1 ? status.ctxtSwitches : undefined);
      if (ran === undefined && switches !== undefined && ranAt.get(info.pid) === switches) continue;
      const fds = proc.fds(info.pid);
      if (fds) recordFds(info, fds, out);
      if (switches !== undefined) ranAt.set(info.pid, switches);
      else ranAt.delete(info.pid);
    }
  };

  return {
    stats,
    isWatched,
    processes: () => watched,
    socketOwner: (inode) => {
      const pid = sockets.get(inode);
      return pid === undefined ? undefined : watched.get(pid);
    },
    tickStat: (pid) => tickStats.get(pid),
    idle: (pid) => idleThisTick.has(pid),
    refreshSockets() {
      for (const info of watched.values()) {
        // a process none of whose threads ran since its last read here has no new socket
        const ran = proc.threadActivity?.(info.pid);
        if (ran !== undefined && socketsReadAt.get(info.pid) === ran) continue;
        const fds = proc.fds(info.pid);
        if (ran !== undefined && fds) socketsReadAt.set(info.pid, ran);
        else socketsReadAt.delete(info.pid);
        if (!fds) continue;
        for (const target of fds.values()) {
          const inode = socketInode(target);
          if (inode !== undefined) sockets.set(inode, info.pid);
        }
      }
    },
    tick(nowMs) {
      stats.ticks++;
      tickStats = new Map();
      idleThisTick = new Set();
      const out: Observation[] = [];
      const pids = proc.listPids();
      const present = new Set(pids);
      for (const [pid, pending] of joining) {
        const stat = present.has(pid) ? readStat(pid) : undefined;
        if (stat?.startTicks !== pending.startTicks || nowMs - pending.sinceMs > execWindowMs) joining.delete(pid);
        else if (scope.includes(stat, isWatched)) {
          // moved into the scope: read now, as a new process
          joining.delete(pid);
          ignored.delete(pid);
        }
      }
      const fresh = pids.filter((pid) => !watched.has(pid) && !ignored.has(pid)).sort((a, b) => a - b);
      const newNsPids: number[] = [];
      for (const pid of fresh) {
        const stat = readStat(pid);
        if (!stat) continue;
        if (!scope.includes(stat, isWatched)) {
          if (RUNTIME_STAGE.test(stat.comm)) joining.set(pid, { startTicks: stat.startTicks, sinceMs: nowMs });
          ignored.set(pid, stat.startTicks);
          if (scope.kind === 'pod') newNsPids.push(pid);
          continue;
        }
        const details = readDetails(stat);
        if (!details) continue;
        const { info } = details;
        watched.set(pid, info);
        identity.set(pid, { readMs: nowMs, rawExe: proc.exe(pid) });
        stats.seen++;
        newNsPids.push(info.nsPid);
        for (const tid of proc.tasks(pid) ?? []) if (tid !== pid) newNsPids.push(tid - pid + info.nsPid);
        // The runtime's exec stage is not a workload process: the program it becomes is reported by checkExec.
        if (!isRuntimeExecStage(info)) out.push({ type: 'process-start', process: info, parent: parentOf(info) });
        recordFds(info, details.fds, out);
      }
      for (const [pid, info] of watched) {
        if (present.has(pid)) continue;
        forget(pid);
        out.push({ type: 'process-exit', process: info });
      }
      // young processes (read < execWindowMs ago) are checked for an exec every tick, all of them on the rescan
      const rescanDue = nowMs - lastRescan >= rescanMs;
      const freshSet = new Set(fresh);
      if (!rescanDue) {
        for (const info of [...watched.values()]) {
          if (freshSet.has(info.pid)) continue;
          if (nowMs - (identity.get(info.pid)?.readMs ?? 0) < execWindowMs) checkExec(info, nowMs, out);
        }
      }
      for (const pid of ignored.keys()) if (!present.has(pid)) ignored.delete(pid);
      if (sockets.size > 4 * (watched.size + 256)) {
        for (const [inode, pid] of sockets) if (!watched.has(pid)) sockets.delete(inode);
      }
      if (options.countGaps && newNsPids.length > 0) {
        let missed = countGap(maxNsPid, newNsPids);
        if (missed > 0) {
          // threads also take PIDs: count the tasks of every process we know before calling it a gap
          for (const pid of [...watched.keys(), ...ignored.keys()]) {
            for (const tid of proc.tasks(pid) ?? []) if (tid > maxNsPid && tid !== pid) newNsPids.push(tid);
          }
          missed = countGap(maxNsPid, [...new Set(newNsPids)]);
        }
        maxNsPid = Math.max(maxNsPid, ...newNsPids);
        if (missed > 0) {
          stats.gaps += missed;
          out.push({ type: 'pid-gap', missed, totalMissed: stats.gaps });
        }
      }
      if (rescanDue) {
        lastRescan = nowMs;
        rescan(nowMs, freshSet, out);
      }
      stats.skipped = proc.skipped;
      if (out.length > 10_000) logger.debug('large tick', { observations: out.length });
      return out;
    },
  };
}

/**
 * PIDs are allocated in increasing order (cyclically). Between the highest PID seen before and the
 * highest seen now, every number we did not see as a process or thread was a process that lived
 * and died between two ticks. The first tick and a wrap-around count nothing.
 */
export function countGap(previousMax: number, newPids: readonly number[]): number {
  if (previousMax === 0) return 0;
  const above = newPids.filter((p) => p > previousMax);
  if (above.length === 0) return 0;
  const top = Math.max(...above);
  const seen = new Set(above);
  return top - previousMax - seen.size;
}

/** comm of an OCI runtime's process (`runc`, `runc:[2:INIT]`, `crun`, `youki`): it may move into a container. */
const RUNTIME_STAGE = /^(runc|crun|youki)(:|$)/;

/**
 * `runc init`: the container runtime's stage of a `docker exec`/`kubectl exec` (or a container start) for the
 * few milliseconds before it execs the requested program in the same PID. Its binary lives outside the
 * container's root, so its exe link does not resolve to a file in it (it reads `/`). Reporting it would put a
 * runtime binary into profiles and raise "not in the sealed image" on every exec; the program it becomes is
 * reported instead (and the exec itself by the Docker source). A workload binary named runc has a real path
 * and is reported as usual.
 */
export function isRuntimeExecStage(info: Pick<ProcessInfo, 'name' | 'args' | 'exe'>): boolean {
  return info.name === 'runc' && info.args[1] === 'init' && (info.exe === undefined || info.exe === '/');
}
