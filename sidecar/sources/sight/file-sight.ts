import { createHash } from 'node:crypto';
import { closeSync, readFileSync, readSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { openFileInRoot, readFileInRoot, statInRoot } from '../../../shared/fs/index.ts';
import type { Logger } from '../../../shared/logging/index.ts';
import { isSensitivePath } from '../../evaluate/rules/builtin/file-rules.ts';
import { MULTI_CALL } from '../../normalize/program.ts';
import type { ProcessTracker } from '../process-tracker.ts';
import { CLOCK_TICKS, type ProcFs } from '../proc/index.ts';
import type { FileSight, Observation, ProcessInfo, Source } from '../types.ts';
import { parseInotifyEvents } from './inotify-events.ts';
import { errnoName, IN, type PollHandle, type SightNative } from './native.ts';
import type { OwnOpens } from './own-opens.ts';
import {
  DIR_MASK,
  FILE_MASK,
  planWatches,
  WATCH_CLASSES,
  WRITABLE_MASK,
  type PlannedWatch,
  type WatchClass,
} from './watch-plan.ts';

/**
 * File sight: what the app does to its files, seen by the kernel as it happens (inotify through
 * `/proc/<pid>/root`), so a 1 ms `cat /etc/shadow` or a payload dropped in /tmp and run once is seen, where the
 * /proc poller sees only what lasts until its next tick.
 *
 * The events are joined with the poller (the processes source, which calls `join` with its observations of the
 * tick, before they go on), so one action is reported once:
 * - an exec of a watched executable: when the poller has the process (it ticks ~20 ms after the event: the loop is
 *   woken), its `process-start` stands, with PID, args and user; else file sight reports the exec itself, without a
 *   PID ("exited before it could be read"; for busybox only "busybox ran");
 * - an open of a sensitive file or a write below a system directory: file sight reports it, with the process that
 *   holds the file when the poller's tick found one (its `file-open` is then dropped, and so is one it reports for the
 *   same path in the next 2 s);
 * - an executable written, moved in or made executable that the sealed inventory does not have (or has with another
 *   hash): `drift`, when written, before it runs; the file is then watched for its first exec.
 * Our own reads (the poller hashing a new process's executable, the seal identity check) open files too: they are
 * recognised (the process the poller just read; `ownOpens`) and not reported as execs.
 */
export interface SightMetrics {
  /** watches held now, by class (`sealwatch_sight_watches{class}`) */
  watches(cls: WatchClass, count: number): void;
}

export interface FileSightOptions {
  native: SightNative;
  proc: ProcFs;
  tracker: ProcessTracker;
  /** the PID whose root is watched; a change (restart: a new init) re-anchors every watch */
  anchor(): number | undefined;
  /** the sealed inventory's executables (path → sha256); undefined when unsealed */
  inventory?: ReadonlyMap<string, string>;
  logger: Logger;
  metrics?: SightMetrics;
  /** asks the loop for a tick soon (the poller then reads the process behind an exec while it is there) */
  wake?: () => void;
  ownOpens?: OwnOpens;
  /** most watches this root may take (default 8,192; the kernel's fs.inotify.max_user_watches also applies) */
  maxWatches?: number;
  now?: () => number;
}

export interface FileSightSource extends Source {
  /** for /metrics (`sealwatch_sight_*{kind="files"}`): on, actions reported, what was not seen */
  readonly stats: { available: boolean; seen: number; lost: number };
  /** The poller's observations of this tick, with what file sight saw joined in (the poller's duplicates dropped). */
  join(observations: Observation[], nowMs: number): Observation[];
  /** watches held, by class */
  watchCounts(): Record<WatchClass, number>;
}

/**
 * An exec waits this long before it is joined, and the loop is woken (for the poller's tick) this long after it:
 * IN_OPEN comes at the start of execve(2), and a process read in the middle of its exec has the new comm with the old
 * argv (a `sh -c` child read as it becomes `nc`). A process that lived this long is read with PID and args.
 */
const SETTLE_MS = 15;
/** How long reports are kept for joining (the poller reads the fds of a known process once a second). */
const SAME_ACTION_MS = 2_000;
/** Several events of one write (create, write, chmod) within this time are one action. */
const ONE_WRITE_MS = 1_000;
/** Start times are in 10 ms clock ticks: this much slack when an open is compared with a process's start. */
const SLACK_MS = 30;
/** Woken ticks are at least this far apart (each lists /proc: an exec storm must not make the loop spin). */
const MIN_WAKE_GAP_MS = 50;
/**
 * Opens of one file this close together are one exec: a script is opened by the kernel's exec, then by its
 * interpreter (a second exec of the same program within this time is counted once).
 */
const SAME_EXEC_MS = 20;
/**
 * Longest an exec waits while a process that started in the 2 s before it is there (it may be the one exec-ing, read
 * as its old program: see `mayBeMidExec`). After this, or once no such process is left, the exec is reported as exited
 * before it was read.
 */
const MID_EXEC_WAIT_MS = 1_000;
/** Largest dropped executable hashed (a larger one is reported unhashed). */
const MAX_HASH_BYTES = 32 * 1024 * 1024;
const ENOSPC = -28;

interface Watch {
  wd: number;
  paths: string[];
  cls: WatchClass;
  dir: boolean;
  multiCall: boolean;
}

interface Sighting {
  kind: 'exec' | 'open' | 'write';
  path: string;
  paths: readonly string[];
  change: FileSight['change'];
  /** when it was read (ms, wall clock) */
  at: number;
  /** the same, performance.now(): orders it against our own opens */
  mark: number;
  multiCall: boolean;
}

interface Session {
  pid: number;
  startTicks: number;
  root: string;
  fd: number;
  poll: PollHandle;
  watches: Map<number, Watch>;
}

const rank = (cls: WatchClass): number => WATCH_CLASSES.indexOf(cls);
const processKey = (p: ProcessInfo): string => `${p.pid}:${p.startTicks}:${p.exe ?? ''}`;

function changeOf(mask: number): FileSight['change'] | undefined {
  if (mask & IN.CLOSE_WRITE) return 'close-write';
  if (mask & IN.MOVED_TO) return 'moved-to';
  if (mask & IN.ATTRIB) return 'attrib';
  if (mask & IN.CREATE) return 'create';
  return undefined;
}

/** The oldest watched process but a pod's pause container: whose root a pod's file sight watches. */
export function oldestProcess(tracker: Pick<ProcessTracker, 'processes'>): () => number | undefined {
  let chosen: number | undefined;
  return () => {
    const processes = tracker.processes();
    if (chosen !== undefined && processes.has(chosen)) return chosen;
    let best: ProcessInfo | undefined;
    for (const p of processes.values()) {
      if (p.comm === 'pause' || p.exe === undefined) continue;
      if (!best || p.startTicks < best.startTicks) best = p;
    }
    chosen = best?.pid;
    return chosen;
  };
}

export function createFileSight(options: FileSightOptions): FileSightSource {
  const { native, proc, tracker, logger } = options;
  const now = options.now ?? Date.now;
  const maxWatches = options.maxWatches ?? 8192;
  let session: Session | undefined;
  const stats = { available: true, seen: 0, lost: 0 };
  let pending: Sighting[] = [];
  let written: { path: string; change: FileSight['change']; at: number; seq: number }[] = [];
  /** opens of entries of writable places since their last write: an exec when the entry is a drifted executable */
  let openedWritable: { path: string; at: number; mark: number; seq: number }[] = [];
  /** drifted executables in writable places: path → the event sequence number of the write that made them so */
  const drifted = new Map<string, number>();
  /** event sequence numbers (inotify's order) */
  let seq = 0;
  /** the last open seen of each file watched for execs (ms) */
  const lastOpen = new Map<string, number>();
  const sameExec = (path: string, at: number): boolean => {
    const last = lastOpen.get(path);
    if (lastOpen.size > 4096) lastOpen.clear();
    lastOpen.set(path, at);
    return last !== undefined && at - last < SAME_EXEC_MS;
  };
  const out: Observation[] = [];
  /** writes reported per path (ms): more events of the same write are not reported again */
  const reported = new Map<string, number>();
  /**
   * The poller's file-open reports and file sight's own open/write reports, kept SAME_ACTION_MS: an open is one action
   * when the process the poller found holding the file had started by the time file sight saw the open, and still
   * held it then (a read; a write's event comes when it is closed, so it may be seen later)
   */
  let pollerOpens: { path: string; startMs: number; seenMs: number; used: boolean }[] = [];
  let sightReports: { path: string; at: number; write: boolean; used: boolean }[] = [];
  const sameAction = (
    path: string,
    at: number,
    write: boolean,
    p: { path: string; startMs: number; seenMs: number },
  ): boolean => p.path === path && p.startMs <= at + SLACK_MS && at <= p.seenMs + (write ? ONE_WRITE_MS : SLACK_MS);
  /** files judged for drift, by identity: a cp then a chmod is one action */
  const judged = new Set<string>();
  /** when the poller first reported each process (our own hash read of its executable follows) */
  const firstSeen = new Map<string, number>();
  /** sightings each process absorbed (its exec, and our hash read of it) */
  const claims = new Map<string, number>();
  /** file watches the kernel dropped (the file was replaced): added again by path */
  let readd: PlannedWatch[] = [];
  let refusedPaths: string[] = [];
  let refusedCount = 0;

  /** What file sight could not see: an event (`sight-lost`, always shipped), a log line and the lost total. */
  const degraded = (reason: 'overflow' | 'budget' | 'unavailable' | 'refused', detail: string, lost = 1): void => {
    out.push({ type: 'sight-lost', kind: 'files', count: lost, detail: `${reason}: ${detail}` });
    stats.lost += lost;
    logger.warn(`file sight: ${detail}`);
  };

  const publishCounts = (): void => {
    if (!options.metrics) return;
    const counts = watchCounts();
    for (const cls of WATCH_CLASSES) options.metrics.watches(cls, counts[cls]);
  };

  function watchCounts(): Record<WatchClass, number> {
    const counts = Object.fromEntries(WATCH_CLASSES.map((c) => [c, 0])) as Record<WatchClass, number>;
    for (const w of session?.watches.values() ?? []) counts[w.cls]++;
    return counts;
  }

  /** Gives up the least important watch (for a more important one); false when there is none less important. */
  const evictBelow = (s: Session, cls: WatchClass): boolean => {
    for (const victim of [...WATCH_CLASSES].reverse()) {
      if (rank(victim) <= rank(cls)) return false;
      for (const w of s.watches.values()) {
        if (w.cls !== victim) continue;
        native.inotifyRmWatch(s.fd, w.wd);
        s.watches.delete(w.wd);
        degraded('budget', `watch budget full: gave up the ${w.cls} watch of ${w.paths[0]} for a ${cls} one`, 1);
        return true;
      }
    }
    return false;
  };

  /** Adds one watch; 'budget' when none is left, 'refused' when the kernel said no (permission, gone). */
  const addWatch = (s: Session, w: PlannedWatch): 'ok' | 'budget' | 'refused' => {
    if (s.watches.size >= maxWatches && !evictBelow(s, w.cls)) return 'budget';
    const mask = (w.dir ? (w.cls === 'writable' ? WRITABLE_MASK : DIR_MASK) : FILE_MASK) | IN.MASK_ADD;
    let wd = native.inotifyAddWatchInRoot(s.fd, s.root, w.path, mask);
    if (wd === ENOSPC && evictBelow(s, w.cls)) wd = native.inotifyAddWatchInRoot(s.fd, s.root, w.path, mask);
    if (wd === ENOSPC) return 'budget';
    if (wd < 0) {
      refusedCount++;
      if (refusedPaths.length < 5) refusedPaths.push(`${w.path} (${errnoName(wd)})`);
      return 'refused';
    }
    const name = w.path.slice(w.path.lastIndexOf('/') + 1);
    const existing = s.watches.get(wd);
    if (existing) {
      // another path to the same file (a hard link, or a directory that is both a system and a writable one)
      if (!existing.paths.includes(w.path)) existing.paths.push(w.path);
      if (rank(w.cls) < rank(existing.cls)) existing.cls = w.cls;
      existing.multiCall ||= MULTI_CALL.has(name);
      return 'ok';
    }
    s.watches.set(wd, { wd, paths: [w.path], cls: w.cls, dir: w.dir, multiCall: MULTI_CALL.has(name) });
    return 'ok';
  };

  const reportRefused = (): void => {
    if (refusedCount === 0) return;
    degraded(
      'refused',
      `${refusedCount} file(s) not watched: ${refusedPaths.join(', ')}${refusedCount > refusedPaths.length ? ', …' : ''} (EACCES: the watcher needs CAP_DAC_READ_SEARCH for files only another user may read)`,
      refusedCount,
    );
    refusedCount = 0;
    refusedPaths = [];
  };

  const close = (): void => {
    clearTimeout(wakeTimer);
    wakeTimer = undefined;
    if (!session) return;
    session.poll.close();
    native.closeFd(session.fd);
    session = undefined;
    pending = [];
    written = [];
    readd = [];
    publishCounts();
  };

  const onChunk = (error: (Error & { code?: string }) | null, chunk?: Buffer): void => {
    const s = session;
    if (!s) return;
    if (error || !chunk) {
      degraded('overflow', `reading the inotify queue failed: ${error?.message ?? 'no data'}`);
      return;
    }
    const at = now();
    const mark = performance.now();
    const { events } = parseInotifyEvents(chunk);
    /** how soon the poller should tick for what came in (Infinity: no need) */
    let delay = Infinity;
    for (const e of events) {
      if (e.mask & IN.Q_OVERFLOW) {
        degraded('overflow', 'the inotify queue overflowed (fs.inotify.max_queued_events): file events were lost');
        continue;
      }
      const w = s.watches.get(e.wd);
      if (!w) continue;
      if (e.mask & IN.IGNORED) {
        // the file was deleted or replaced (a rename over it): watch what is at its path again
        s.watches.delete(e.wd);
        if (!w.dir) for (const path of w.paths) readd.push({ path, cls: w.cls, dir: false });
        continue;
      }
      if (!w.dir) {
        if (!(e.mask & IN.OPEN)) continue;
        const kind = w.cls === 'sensitive' ? 'open' : 'exec';
        pending.push({ kind, path: w.paths[0]!, paths: w.paths, change: 'open', at, mark, multiCall: w.multiCall });
        delay = Math.min(delay, kind === 'exec' ? SETTLE_MS : 0);
        continue;
      }
      if (e.name.length === 0) continue;
      const path = joinPath(w.paths[0]!, e.name.toString('utf8'));
      seq++;
      if (e.mask & IN.OPEN) {
        // only a writable place's watch has IN_OPEN: kept only for a drifted (or just written) file
        if (drifted.has(path) || written.some((x) => x.path === path)) {
          openedWritable.push({ path, at, mark, seq });
          delay = Math.min(delay, SETTLE_MS);
        }
        continue;
      }
      const change = changeOf(e.mask);
      if (change === undefined) continue;
      if (w.cls === 'system-dir') {
        pending.push({ kind: 'write', path, paths: [path], change, at, mark, multiCall: false });
        if ((change === 'create' || change === 'moved-to') && isSensitivePath(path))
          readd.push({ path, cls: 'sensitive', dir: false });
      }
      // an executable written or made executable: judged once it is closed (a create alone has no content yet)
      if (change !== 'create') written.push({ path, change, at, seq });
      if (drifted.has(path)) drifted.set(path, seq);
      delay = 0;
    }
    if (delay !== Infinity) wakeSoon(delay);
  };

  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeDue = 0;
  let lastWake = -Infinity;
  /** A tick `delay` ms from now (an exec: once its process replaced its image; an open: at once), not too often. */
  const wakeSoon = (delay: number): void => {
    if (!options.wake) return;
    const t = now();
    const due = Math.max(t + delay, lastWake + MIN_WAKE_GAP_MS);
    if (wakeTimer && wakeDue <= due) return;
    clearTimeout(wakeTimer);
    wakeDue = due;
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      lastWake = now();
      options.wake?.();
    }, due - t);
    wakeTimer.unref();
  };

  const open = (pid: number, startTicks: number): void => {
    const fd = native.inotifyInit();
    stats.available = fd >= 0;
    if (fd < 0) {
      degraded('unavailable', `inotify_init1 failed (${errnoName(fd)}): no file sight for pid ${pid}'s root`);
      return;
    }
    const base = `${proc.root}/${pid}`;
    const root = `${base}/root`;
    const mountinfo = readFileInRoot(base, 'mountinfo', { maxBytes: 4 * 1024 * 1024, links: 'refuse' });
    const plan = planWatches(root, {
      executables: options.inventory ? [...options.inventory.keys()] : undefined,
      mountinfo: mountinfo.ok ? mountinfo.value.toString('utf8') : undefined,
    });
    const s: Session = { pid, startTicks, root, fd, poll: native.pollFd(fd, onChunk), watches: new Map() };
    session = s;
    const givenUp = new Map<WatchClass, number>();
    for (const w of plan) {
      if (addWatch(s, w) === 'budget') givenUp.set(w.cls, (givenUp.get(w.cls) ?? 0) + 1);
    }
    if (givenUp.size > 0) {
      const lost = [...givenUp.values()].reduce((a, b) => a + b, 0);
      degraded(
        'budget',
        `watch budget reached at ${s.watches.size} watches: not watched ${[...givenUp].map(([c, n]) => `${n} ${c}`).join(', ')} (the least important first; raise fs.inotify.max_user_watches)`,
        lost,
      );
    }
    reportRefused();
    publishCounts();
    const counts = watchCounts();
    logger.info(
      `file sight: watching the root of pid ${pid}: ${WATCH_CLASSES.map((c) => `${counts[c]} ${c}`).join(', ')}`,
    );
  };

  /** Follows the anchor: a new init (restart) or a new root means new watches. */
  const maintain = (): void => {
    const pid = options.anchor();
    const stat = pid === undefined ? undefined : (tracker.tickStat(pid) ?? proc.stat(pid));
    if (pid === undefined || !stat) {
      close();
      return;
    }
    if (!session || session.pid !== pid || session.startTicks !== stat.startTicks) {
      close();
      open(pid, stat.startTicks);
    }
    if (session && readd.length > 0) {
      for (const w of readd.splice(0, 64)) addWatch(session, w);
      reportRefused();
      publishCounts();
    }
  };

  /**
   * Boot time to the clock tick, from /proc/uptime (btime in /proc/stat is whole seconds, too coarse to tell whether a
   * process had started when a file was opened); measured again every minute.
   */
  let boot: { ms: number | undefined; at: number } | undefined;
  const bootMs = (): number | undefined => {
    const t = now();
    if (boot && t - boot.at < 60_000) return boot.ms;
    let ms = proc.bootTimeMs();
    try {
      const up = Number(readFileSync(`${proc.root}/uptime`, 'latin1').split(' ')[0]);
      if (up > 0) ms = t - up * 1000;
    } catch {
      // a /proc without uptime (a fixture): btime
    }
    boot = { ms, at: t };
    return ms;
  };
  const startMs = (p: ProcessInfo): number | undefined => {
    const b = bootMs();
    return b === undefined ? undefined : b + (p.startTicks * 1000) / CLOCK_TICKS;
  };

  /** A process that started at most 2 s before an exec was seen (a fork execs after it started). */
  const startedBefore = (p: ProcessInfo, at: number): boolean => {
    const started = startMs(p);
    return started !== undefined && started >= at - 2_000 && started <= at + 100;
  };

  /** The process behind an exec, if the poller has it: started about then, or first read by it about then. */
  const execCandidate = (s: Pick<Sighting, 'paths' | 'at'>): ProcessInfo | undefined => {
    for (const p of tracker.processes().values()) {
      if (p.exe === undefined || !s.paths.includes(p.exe)) continue;
      const key = processKey(p);
      const taken = claims.get(key) ?? 0;
      if (taken >= 2) continue;
      const first = firstSeen.get(key);
      if (!startedBefore(p, s.at) && (first === undefined || Math.abs(first - s.at) > 1_500)) continue;
      claims.set(key, taken + 1);
      return p;
    }
    return undefined;
  };

  /**
   * True while the exec may be a process the poller read as its old program: one that started at most 2 s before the
   * exec and is still there. execve(2) opens the new program (the event) well before the process shows it (exe link,
   * comm), so a read in between, before or after the event, has the old one. The tracker checks processes that young
   * for an exec every tick: its next read shows the new program and its process-start stands for the exec. Until then,
   * at most MID_EXEC_WAIT_MS, the exec is not reported as "exited before it could be read" (it would be reported
   * twice).
   */
  const mayBeMidExec = (s: Pick<Sighting, 'paths' | 'at'>, nowMs: number): boolean => {
    if (nowMs - s.at >= MID_EXEC_WAIT_MS) return false;
    let young = false;
    for (const p of tracker.processes().values()) {
      if (p.exe !== undefined && s.paths.includes(p.exe)) return false; // the process is there: joined now
      young ||= startedBefore(p, s.at);
    }
    return young;
  };

  /**
   * The process holding `path` open this tick that had started when file sight saw it opened: the poller's own report
   * of it is taken over (dropped), its process named in file sight's.
   */
  const holder = (
    s: Sighting,
    observations: Observation[],
    dropped: Set<Observation>,
    nowMs: number,
  ): ProcessInfo | undefined => {
    for (const o of observations) {
      if (o.type !== 'file-open' || dropped.has(o)) continue;
      const p = { path: o.path, startMs: startMs(o.process) ?? -Infinity, seenMs: nowMs };
      if (!sameAction(s.path, s.at, s.kind === 'write', p)) continue;
      dropped.add(o);
      return o.process;
    }
    return undefined;
  };

  /**
   * A process still holding `path` open that the poller had read before (a long-lived one: the poller looks at its
   * fds once a second): the fd tables of those that ran lately, at most 64.
   */
  const scanHolder = (path: string): ProcessInfo | undefined => {
    let looked = 0;
    for (const p of tracker.processes().values()) {
      if (tracker.idle(p.pid)) continue;
      if (++looked > 64) break;
      for (const target of proc.fds(p.pid)?.values() ?? []) if (target === path) return p;
    }
    return undefined;
  };

  const sha256Of = (path: string): { sha256?: string; why?: string } => {
    const open = openFileInRoot(session!.root, path, { maxBytes: MAX_HASH_BYTES, links: 'refuse' });
    if (!open.ok) return { why: open.detail };
    const { fd, stat } = open.value;
    try {
      const hash = createHash('sha256');
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(stat.size, 1)));
      for (let left = stat.size; left > 0;) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, left), null);
        if (n === 0) break;
        hash.update(chunk.subarray(0, n));
        left -= n;
      }
      return { sha256: hash.digest('hex') };
    } finally {
      closeSync(fd);
    }
  };

  /** An executable written or made executable: drift unless the sealed inventory has it with this content. */
  const judgeWritten = (
    w: { path: string; change: FileSight['change']; seq: number },
    nowMs: number,
  ): FileSight | undefined => {
    const s = session;
    if (!s) return undefined;
    const st = statInRoot(s.root, w.path, { lstat: true, timeoutMs: 250 });
    if (!st.ok || !st.value.isFile() || (st.value.mode & 0o111) === 0) return undefined;
    const identity = `${w.path}\0${st.value.ino}:${st.value.mtimeMs}:${st.value.size}:${st.value.mode}`;
    if (judged.has(identity)) return undefined;
    if (judged.size > 10_000) judged.clear();
    judged.add(identity);
    options.ownOpens?.note(w.path);
    const { sha256, why } = sha256Of(w.path);
    const sealed = options.inventory?.get(w.path);
    let drift: string;
    if (options.inventory === undefined) drift = 'not part of the image (unsealed: nothing to compare it with)';
    else if (sealed === undefined) drift = 'not in the sealed inventory';
    else if (sha256 === undefined) drift = `in the sealed inventory but could not be compared (${why ?? 'unread'})`;
    else if (sha256 !== sealed) drift = `differs from the sealed inventory (sealed sha256 ${sealed.slice(0, 12)}…)`;
    else return undefined;
    const found: FileSight = {
      type: 'file-sight',
      kind: 'drift',
      path: w.path,
      change: w.change,
      drift,
      sha256,
      mode: st.value.mode,
    };
    stats.seen++;
    reported.set(w.path, nowMs);
    // its first exec is seen (and, in enforce mode, the process the poller finds is killed): through the writable
    // place's own watch, else a watch of its own
    if (isInWritable(s, w.path)) {
      if (drifted.size > 10_000) drifted.clear();
      drifted.set(w.path, w.seq);
    } else {
      addWatch(s, { path: w.path, cls: 'dropped', dir: false });
      publishCounts();
    }
    return found;
  };

  const isInWritable = (s: Session, path: string): boolean => {
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    for (const w of s.watches.values()) if (w.cls === 'writable' && w.paths.includes(dir)) return true;
    return false;
  };

  /**
   * An exec (or read: inotify does not tell) of a file: the poller's process when it has it, else reported here.
   * False while it waits for a process read mid-exec (`mayBeMidExec`): the caller keeps it for the next tick.
   */
  const resolveExec = (
    s: Pick<Sighting, 'path' | 'paths' | 'at' | 'mark' | 'multiCall' | 'change'>,
    nowMs: number,
  ): boolean => {
    if (mayBeMidExec(s, nowMs)) {
      wakeSoon(MIN_WAKE_GAP_MS);
      return false;
    }
    if (options.ownOpens?.take(s.path, s.mark)) return true;
    if (sameExec(s.path, s.at) || execCandidate(s)) return true;
    out.push({ type: 'file-sight', kind: 'exec', path: s.path, change: s.change, multiCall: s.multiCall });
    stats.seen++;
    return true;
  };

  const join = (observations: Observation[], nowMs: number): Observation[] => {
    maintain();
    // executables written: judged at once (the event comes once the file is closed or chmod-ed), and reported before
    // the poller's observations of this tick, so a drift alert comes before the exec of the file (and its kill)
    const drifts: Observation[] = [];
    for (const w of written.splice(0)) {
      const found = judgeWritten(w, nowMs);
      if (found) drifts.push(found);
    }
    for (const o of observations) if (o.type === 'process-start') firstSeen.set(processKey(o.process), nowMs);
    // an exec waits for its process to have replaced its image; an open or a write is joined at once
    const isReady = (s: Sighting): boolean => s.kind !== 'exec' || nowMs - s.at >= SETTLE_MS;
    const ready = pending.filter(isReady);
    pending = pending.filter((s) => !isReady(s));
    const dropped = new Set<Observation>();
    for (const s of ready) {
      if (s.kind === 'exec') {
        if (!resolveExec(s, nowMs)) pending.push(s);
        continue;
      }
      const write = s.kind === 'write';
      // several events of one write (create, close-write, attrib) are one action
      if (write && s.at - (reported.get(s.path) ?? -Infinity) < ONE_WRITE_MS) continue;
      const process = holder(s, observations, dropped, nowMs) ?? scanHolder(s.path);
      // the poller reported it in an earlier tick (the process held the file when the poller looked)
      const polled = process ? undefined : pollerOpens.find((p) => !p.used && sameAction(s.path, s.at, write, p));
      if (polled) {
        polled.used = true;
        continue;
      }
      out.push({ type: 'file-sight', kind: s.kind, path: s.path, change: s.change, process });
      stats.seen++;
      if (write) reported.set(s.path, s.at);
      sightReports.push({ path: s.path, at: s.at, write, used: false });
    }
    // the poller's other file-opens of this tick: the same action as one file sight reported before, or new
    for (const o of observations) {
      if (o.type !== 'file-open' || dropped.has(o)) continue;
      const p = { path: o.path, startMs: startMs(o.process) ?? -Infinity, seenMs: nowMs, used: false };
      const mine = sightReports.find((r) => !r.used && sameAction(r.path, r.at, r.write, p));
      if (mine) {
        mine.used = true;
        dropped.add(o);
      } else pollerOpens.push(p);
    }
    // opens of drifted executables after the write that made them so (the writer's own open came before it)
    const opens = openedWritable.filter((o) => nowMs - o.at >= SETTLE_MS);
    openedWritable = openedWritable.filter((o) => nowMs - o.at < SETTLE_MS);
    for (const o of opens) {
      const since = drifted.get(o.path);
      if (since === undefined || o.seq < since) continue;
      const exec = { path: o.path, paths: [o.path], at: o.at, mark: o.mark, multiCall: false, change: 'open' as const };
      if (!resolveExec(exec, nowMs)) openedWritable.push(o);
    }
    // forget what is too old to join
    for (const [path, at] of reported) if (nowMs - at > ONE_WRITE_MS) reported.delete(path);
    pollerOpens = pollerOpens.filter((p) => nowMs - p.seenMs <= SAME_ACTION_MS);
    sightReports = sightReports.filter((r) => nowMs - r.at <= SAME_ACTION_MS);
    if (firstSeen.size > 4096) {
      for (const [key, at] of firstSeen) if (nowMs - at > 5_000) firstSeen.delete(key);
      for (const key of claims.keys()) if (!firstSeen.has(key)) claims.delete(key);
    }
    return [...drifts, ...observations.filter((o) => !dropped.has(o))];
  };

  return {
    name: 'file-sight',
    stats,
    join,
    watchCounts,
    poll: () => out.splice(0),
    stop: () => {
      close();
      return Promise.resolve();
    },
  };
}
