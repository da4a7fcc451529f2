import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcFs } from './proc/index.ts';
import type { ProcessTracker } from './process-tracker.ts';
import type { Observation, Source } from './types.ts';

/**
 * New setuid/setgid files, by a periodic scan of the directories anyone can write in the watched root
 * filesystems (/tmp, /var/tmp, /dev/shm, two levels deep, through `/proc/<pid>/root`).
 * Why a scan and not the files opened for write: a setuid bit is set by chmod(2) after the file is
 * written and closed, so the open fds never show it; and why these directories: they are where an
 * unprivileged process can drop a file at all (the image's own setuid files are in the sealed
 * inventory). Cost: a few readdir + lstat calls every 5 s per distinct root (no hashing, no recursion
 * beyond two levels, at most `maxEntries` entries per scan), and the pause after a scan is at least
 * 400 times the scan's own duration, so a crowded /tmp never takes more than 0.25% of a core.
 * Each (path, inode, mode) is reported once.
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
}

const SPECIAL = 0o6000;

export function createSetuidScan(options: SetuidScanOptions): Source {
  const { proc, tracker } = options;
  const everyMs = options.everyMs ?? 5000;
  const dirs = options.dirs ?? WRITABLE_DIRS;
  const maxEntries = options.maxEntries ?? 5000;
  const reported = new Set<string>();
  let next = 0;

  const rootsToScan = (): string[] => {
    const byRoot = new Map<string, string>();
    for (const pid of tracker.processes().keys()) {
      const root = join(proc.root, String(pid), 'root');
      try {
        const s = statSync(root);
        const key = `${s.dev}:${s.ino}`;
        if (!byRoot.has(key)) byRoot.set(key, root);
      } catch {
        // gone, or not ours to read
      }
    }
    return [...byRoot.values()];
  };

  const scan = (): Observation[] => {
    const out: Observation[] = [];
    let budget = maxEntries;
    const visit = (root: string, dir: string, depth: number): void => {
      let names: string[];
      try {
        names = readdirSync(join(root, dir));
      } catch {
        return;
      }
      for (const name of names) {
        if (budget-- <= 0) return;
        const path = `${dir}/${name}`;
        let s;
        try {
          s = lstatSync(join(root, path));
        } catch {
          continue;
        }
        if (s.isDirectory()) {
          if (depth < 2) visit(root, path, depth + 1);
          continue;
        }
        if (!s.isFile() || (s.mode & SPECIAL) === 0) continue;
        const key = `${s.dev}:${s.ino}:${s.mode}:${path}`;
        if (reported.has(key)) continue;
        reported.add(key);
        out.push({ type: 'setuid-file', path, mode: s.mode & 0o7777 });
      }
    };
    for (const root of rootsToScan()) for (const dir of dirs) visit(root, dir, 1);
    return out;
  };

  return {
    name: 'setuid-files',
    poll(nowMs) {
      if (nowMs < next) return [];
      const started = performance.now();
      const found = scan();
      next = nowMs + Math.max(everyMs, (performance.now() - started) * 400);
      return found;
    },
  };
}
