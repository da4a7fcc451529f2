import { readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDirInRoot } from '../../shared/fs/index.ts';
import { escapeBytes } from '../../shared/text/index.ts';
import type { ProcFs } from './proc/index.ts';
import type { ProcessTracker } from './process-tracker.ts';
import type { Observation, Source } from './types.ts';

/**
 * New setuid/setgid files, by a periodic scan of the directories anyone can write in the watched root
 * filesystems (/tmp, /var/tmp, /dev/shm, two levels deep, through `/proc/<pid>/root`).
 * Every read goes through shared/fs (resolved inside that root, a link never followed out of it, names as bytes: a
 * name that is not UTF-8 is found and reported with its bytes escaped).
 * Why a scan and not the files opened for write: a setuid bit is set by chmod(2) after the file is
 * written and closed, so the open fds never show it; and why these directories: they are where an
 * unprivileged process can drop a file at all (the image's own setuid files are in the sealed
 * inventory). Cost: a few readdir + lstat calls every 5 s per distinct root (no hashing, no recursion
 * beyond two levels, at most `maxEntries` entries per scan, at most `maxScanMs` of it per tick), and each root
 * pauses at least 400 times what its own scan took, so a crowded /tmp never takes more than 0.25% of a core, nor
 * holds the loop, nor delays the scan of another root.
 * A crowd cannot hide a file: a directory listing cut short by the budget resumes where it stopped on the
 * next scan, and second-level directories whose mtime changed since their last full visit (a file was
 * added, renamed or removed there) come first. Each (path, inode, mode) is reported once.
 */
export const WRITABLE_DIRS = ['/tmp', '/var/tmp', '/dev/shm'] as const;

export interface SetuidScanOptions {
  proc: ProcFs;
  tracker: ProcessTracker;
  /** scan period (ms, default 5000) */
  everyMs?: number;
  dirs?: readonly string[];
  /** entries looked at per scan, all roots together (default 5000) */
  maxEntries?: number;
  /** time a scan may take in one tick (ms, default 5); it goes on at the next tick */
  maxScanMs?: number;
}

const SPECIAL = 0o6000;
const SLASH = Buffer.from('/');

export function createSetuidScan(options: SetuidScanOptions): Source {
  const { proc, tracker } = options;
  const everyMs = options.everyMs ?? 5000;
  const dirs = options.dirs ?? WRITABLE_DIRS;
  const maxEntries = options.maxEntries ?? 5000;
  const maxScanMs = options.maxScanMs ?? 5;
  const reported = new Set<string>();

  /** The distinct root filesystems of the watched processes (key: mount namespace, device, inode), one path each. */
  const rootsToScan = (): Map<string, string> => {
    const byRoot = new Map<string, string>();
    for (const pid of tracker.processes().keys()) {
      const root = join(proc.root, String(pid), 'root');
      try {
        const s = statSync(root);
        // the same root directory in another mount namespace can hold other mounts (a /tmp of its own)
        let mounts = '';
        try {
          mounts = readlinkSync(join(proc.root, String(pid), 'ns', 'mnt'));
        } catch {
          // a /proc view without ns links: the root alone tells
        }
        const key = `${mounts}:${s.dev}:${s.ino}`;
        if (!byRoot.has(key)) byRoot.set(key, root);
      } catch {
        // gone, or not ours to read
      }
    }
    return byRoot;
  };

  /** where the listing of a directory (root + path) was cut short by the budget: the next scan goes on from there */
  const resumeAt = new Map<string, number>();
  /** mtime of each second-level directory at its last full visit */
  const visitedMtime = new Map<string, number>();
  /** where the turn of unchanged second-level directories goes on */
  let turn = 0;

  /**
   * One round of the scan, as steps: each step is one lstat (undefined) or a setuid file found. The source runs
   * steps for at most `maxScanMs` a poll and goes on at the next poll, so a crowded /tmp spreads over several
   * ticks instead of holding one (a host's /tmp of 1,400 entries took 450 ms in one go under load).
   */
  function* round(roots: ReadonlyMap<string, string>): Generator<Observation | undefined, void> {
    let budget = maxEntries;
    /** lstat the entries of one directory within the budget: special files reported, subdirectories returned */
    function* list(
      root: string,
      dir: Buffer,
    ): Generator<Observation | undefined, Array<{ dir: Buffer; mtimeMs: number }>> {
      const subdirs: Array<{ dir: Buffer; mtimeMs: number }> = [];
      // resolved inside the root (a /tmp that links to / lists the workload's /, never ours), names as bytes
      const opened = openDirInRoot(root, dir, { timeoutMs: 500 });
      if (!opened.ok) return subdirs;
      const listing = opened.value;
      try {
        const { names } = listing;
        const key = `${root}\0${dir.toString('latin1')}`;
        const from = (resumeAt.get(key) ?? 0) % Math.max(1, names.length);
        resumeAt.delete(key);
        for (let i = 0; i < names.length; i++) {
          if (budget <= 0) {
            resumeAt.set(key, from + i);
            break;
          }
          budget--;
          yield undefined;
          const name = names[(from + i) % names.length]!;
          const s = listing.lstat(name);
          if (s === undefined) continue;
          const path = Buffer.concat([dir, SLASH, name]);
          if (s.isDirectory()) {
            subdirs.push({ dir: path, mtimeMs: s.mtimeMs });
            continue;
          }
          if (!s.isFile() || (s.mode & SPECIAL) === 0) continue;
          const seen = `${s.dev}:${s.ino}:${s.mode}:${path.toString('latin1')}`;
          if (reported.has(seen)) continue;
          reported.add(seen);
          // the name as its bytes say (not UTF-8: \xNN), so it is reported, and reported as what it is
          yield { type: 'setuid-file', path: escapeBytes(path), mode: s.mode & 0o7777 };
        }
      } finally {
        listing.close();
      }
      return subdirs;
    }
    const second: Array<{ root: string; dir: Buffer; mtimeMs: number }> = [];
    const rootKey = new Map([...roots].map(([key, path]) => [path, key]));
    for (const [key, root] of roots) {
      current = key;
      for (const dir of dirs) for (const d of yield* list(root, Buffer.from(dir))) second.push({ root, ...d });
    }
    // the second level (its own subdirectories are not walked): changed directories first
    const key = (d: { root: string; dir: Buffer }): string => `${d.root}\0${d.dir.toString('latin1')}`;
    const changed = (d: (typeof second)[number]): boolean => visitedMtime.get(key(d)) !== d.mtimeMs;
    // then the unchanged ones in turn, from where the last round's budget ended (a chmod u+s leaves a directory's
    // mtime as it was)
    const unchanged = second.filter((d) => !changed(d));
    const start = unchanged.length === 0 ? 0 : turn % unchanged.length;
    const order = [...second.filter(changed), ...unchanged.slice(start), ...unchanged.slice(0, start)];
    let visitedUnchanged = 0;
    for (const d of order) {
      if (budget <= 0) break;
      current = rootKey.get(d.root);
      const wasChanged = changed(d);
      yield* list(d.root, d.dir);
      if (!resumeAt.has(key(d))) visitedMtime.set(key(d), d.mtimeMs);
      // one cut short is where the next round goes on (its listing resumes there too)
      if (!wasChanged && !resumeAt.has(key(d))) visitedUnchanged++;
    }
    turn = start + visitedUnchanged;
    if (resumeAt.size > 4096) resumeAt.clear();
    if (visitedMtime.size > 4 * (second.length + 64)) {
      const current = new Set(second.map(key));
      for (const k of visitedMtime.keys()) if (!current.has(k)) visitedMtime.delete(k);
    }
  }

  let running: Generator<Observation | undefined, void> | undefined;
  /** the root the round is at (its time is counted to it) */
  let current: string | undefined;
  /** time each root of the current round has taken, over its polls */
  const spent = new Map<string, number>();
  /**
   * when each root is due again: 400 times what its last scan took, so a crowded root (a host's /tmp) is scanned
   * seldom while a small one (a container's) stays at `everyMs`, and a root seen for the first time is due at once
   */
  const nextByRoot = new Map<string, number>();

  return {
    name: 'setuid-files',
    stop() {
      // a round cut short holds a directory open: its generator's finally closes it
      running?.return();
      running = undefined;
      return Promise.resolve();
    },
    poll(nowMs) {
      if (running === undefined) {
        const due = new Map([...rootsToScan()].filter(([key]) => (nextByRoot.get(key) ?? 0) <= nowMs));
        if (due.size === 0) return [];
        running = round(due);
        spent.clear();
        for (const key of due.keys()) spent.set(key, 0);
      }
      const started = performance.now();
      const found: Observation[] = [];
      for (;;) {
        const stepStart = performance.now();
        const step = running.next();
        if (current !== undefined) spent.set(current, (spent.get(current) ?? 0) + performance.now() - stepStart);
        if (step.done) {
          running = undefined;
          current = undefined;
          for (const [key, ms] of spent) nextByRoot.set(key, nowMs + Math.max(everyMs, ms * 400));
          if (nextByRoot.size > 4096) for (const [key, at] of nextByRoot) if (at <= nowMs) nextByRoot.delete(key);
          return found;
        }
        if (step.value) found.push(step.value);
        if (performance.now() - started > maxScanMs) return found;
      }
    },
  };
}
