import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { readFileInRoot, statInRoot, walkInRoot } from '../../../shared/fs/index.ts';
import { parseCmdline } from './parse-cmdline.ts';
import { parseFdinfoFlags } from './parse-misc.ts';
import { parseNetTable, type NetFamily, type NetProtocol, type NetSocket } from './parse-net.ts';
import { parseStat, type ProcStat } from './parse-stat.ts';
import { parseStatus, type ProcStatus } from './parse-status.ts';

/**
 * Reads one `/proc` tree. The root is a parameter: `/proc` in production, a fixture folder in
 * tests. Sync calls on purpose: 2-3x faster than async for these tiny files (measured on a 2-core VM).
 * Every method returns undefined when the process is gone or the record is unreadable, and
 * counts records that were present but did not parse (`skipped`): bad input is never fatal.
 */
export interface ProcFs {
  readonly root: string;
  /** Number of records that existed but failed validation, since creation. */
  readonly skipped: number;
  listPids(): number[];
  stat(pid: number): ProcStat | undefined;
  status(pid: number): ProcStatus | undefined;
  cmdline(pid: number): string[] | undefined;
  exe(pid: number): string | undefined;
  /** stat(2) of the executable behind /proc/<pid>/exe (works for deleted files and other mount namespaces). */
  exeStat(pid: number): Stats | undefined;
  /** sha256 (hex) of the executable behind /proc/<pid>/exe, read in 1 MiB chunks (a 100 MB binary is not held whole). */
  exeSha256(pid: number): string | undefined;
  cwd(pid: number): string | undefined;
  cgroup(pid: number): string | undefined;
  /** fd number → link target (`/etc/shadow`, `socket:[123]`, `pipe:[9]`). */
  fds(pid: number): Map<number, string> | undefined;
  fdFlags(pid: number, fd: number): number | undefined;
  tasks(pid: number): number[] | undefined;
  /**
   * What every thread of the process has run so far (`task/<tid>/schedstat`, with the thread ids):
   * unchanged text means no thread has run since, so nothing opened or closed a file. Optional: a view
   * that lacks it (or a kernel without schedstat) makes the callers read the fds every time.
   */
  threadActivity?(pid: number): string | undefined;
  /**
   * What the main thread has run so far (`schedstat`: run time in ns, wait time, time slices; 0444, tiny, cheap
   * for the kernel to write): unchanged text means the thread has not run since. Optional, like threadActivity.
   */
  runTime?(pid: number): string | undefined;
  net(
    pid: number | 'self',
    protocol: NetProtocol,
    family: NetFamily,
    known?: ReadonlyMap<string, NetSocket>,
  ): NetSocket[] | undefined;
  /**
   * Socket counters of the process's network namespace (`net/sockstat` + `net/sockstat6`, buffer
   * memory removed): unchanged text means no socket was created or closed. Optional: a view that
   * lacks it makes the socket source read the tables every time.
   */
  sockstat?(pid: number | 'self'): string | undefined;
  /** A file inside the process's root filesystem (`/proc/<pid>/root/<path>`). */
  readRootFile(pid: number, path: string): string | undefined;
  rootStat(pid: number, path: string): Stats | undefined;
  listRootDir(pid: number, path: string): string[] | undefined;
  /** Clock ticks per second (USER_HZ) and boot time, for start times. */
  bootTimeMs(): number | undefined;
}

export const CLOCK_TICKS = 100;
/** The most read of one file in a watched root (/etc/passwd and the like). */
export const ROOT_FILE_MAX_BYTES = 4 * 1024 * 1024;
/** The most names listed of one directory in a watched root. */
export const ROOT_DIR_MAX_ENTRIES = 100_000;

export function createProcFs(root = '/proc'): ProcFs {
  let skipped = 0;
  const path = (pid: number | 'self', ...rest: string[]): string => join(root, String(pid), ...rest);
  /**
   * One file read whole into a buffer kept between calls. `/proc` files report size 0, so readFileSync would
   * allocate a fresh 64 KiB buffer for each of the ~150 small reads a second an idle watcher makes (~10 MB/s
   * of garbage: a young-generation collection every second). Returns the length read, or undefined.
   */
  let scratch = Buffer.allocUnsafe(16 * 1024);
  const readWhole = (file: string): number | undefined => {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined;
    }
    try {
      let length = 0;
      for (;;) {
        if (length === scratch.length) {
          const bigger = Buffer.allocUnsafe(scratch.length * 2);
          scratch.copy(bigger, 0, 0, length);
          scratch = bigger;
        }
        const n = readSync(fd, scratch, length, scratch.length - length, null);
        if (n === 0) return length;
        length += n;
      }
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  };
  const text = (file: string): string | undefined => {
    const length = readWhole(file);
    return length === undefined ? undefined : scratch.toString('latin1', 0, length);
  };
  const link = (file: string): string | undefined => {
    try {
      return readlinkSync(file);
    } catch {
      return undefined;
    }
  };
  const entries = (dir: string): string[] | undefined => {
    try {
      return readdirSync(dir);
    } catch {
      return undefined;
    }
  };
  const counted = <T>(value: T | undefined, present: boolean): T | undefined => {
    if (present && value === undefined) skipped++;
    return value;
  };
  let boot: number | undefined;
  return {
    root,
    get skipped() {
      return skipped;
    },
    listPids() {
      try {
        return readdirSync(root)
          .filter((n) => /^\d+$/.test(n))
          .map(Number);
      } catch {
        return [];
      }
    },
    stat(pid) {
      // latin1 keeps every byte; comm is re-decoded as UTF-8 below
      const raw = text(path(pid, 'stat'));
      if (raw === undefined) return undefined;
      const parsed = counted(parseStat(raw), true);
      if (parsed) parsed.comm = Buffer.from(parsed.comm, 'latin1').toString('utf8');
      return parsed;
    },
    status(pid) {
      const raw = text(path(pid, 'status'));
      return raw === undefined ? undefined : counted(parseStatus(raw), true);
    },
    cmdline(pid) {
      const length = readWhole(path(pid, 'cmdline'));
      return length === undefined ? undefined : parseCmdline(scratch.subarray(0, length));
    },
    exe: (pid) => link(path(pid, 'exe')),
    exeStat(pid) {
      try {
        return statSync(path(pid, 'exe'));
      } catch {
        return undefined;
      }
    },
    exeSha256(pid) {
      let fd: number;
      try {
        fd = openSync(path(pid, 'exe'), 'r');
      } catch {
        return undefined;
      }
      try {
        const hash = createHash('sha256');
        const chunk = Buffer.allocUnsafe(1024 * 1024);
        for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) hash.update(chunk.subarray(0, n));
        return hash.digest('hex');
      } catch {
        return undefined;
      } finally {
        closeSync(fd);
      }
    },
    cwd: (pid) => link(path(pid, 'cwd')),
    cgroup: (pid) => text(path(pid, 'cgroup')),
    fds(pid) {
      const names = entries(path(pid, 'fd'));
      if (names === undefined) return undefined;
      const out = new Map<number, string>();
      for (const name of names) {
        const target = link(path(pid, 'fd', name));
        if (target !== undefined && /^\d+$/.test(name)) out.set(Number(name), target);
      }
      return out;
    },
    fdFlags(pid, fd) {
      const raw = text(path(pid, 'fdinfo', String(fd)));
      return raw === undefined ? undefined : counted(parseFdinfoFlags(raw), true);
    },
    tasks: (pid) =>
      entries(path(pid, 'task'))
        ?.filter((n) => /^\d+$/.test(n))
        .map(Number),
    threadActivity(pid) {
      const tids = entries(path(pid, 'task'));
      if (tids === undefined) return undefined;
      let key = '';
      for (const tid of tids) {
        const run = text(path(pid, 'task', tid, 'schedstat'));
        if (run === undefined) return undefined;
        key += `${tid}:${run.trim()};`;
      }
      return key === '' ? undefined : key;
    },
    runTime: (pid) => text(path(pid, 'schedstat')),
    sockstat(pid) {
      const v4 = text(path(pid, 'net', 'sockstat'));
      const v6 = text(path(pid, 'net', 'sockstat6'));
      if (v4 === undefined || v6 === undefined) return undefined;
      return (v4 + v6).replace(/ mem(ory)? \d+/g, '');
    },
    net(pid, protocol, family, known) {
      const file = `${protocol}${family === 'ipv6' ? '6' : ''}`;
      const raw = text(path(pid, 'net', file));
      if (raw === undefined) return undefined;
      const { sockets, skipped: bad } = parseNetTable(raw, protocol, family, known);
      skipped += bad;
      return sockets;
    },
    // The process's root is its workload's: resolved inside it (shared/fs), never a FIFO, a device or a file
    // of ours reached through an absolute link, at most ROOT_FILE_MAX_BYTES.
    readRootFile(pid, file) {
      const r = readFileInRoot(path(pid, 'root'), file, { maxBytes: ROOT_FILE_MAX_BYTES, timeoutMs: 500 });
      return r.ok ? r.value.toString('latin1') : undefined;
    },
    rootStat(pid, file) {
      const r = statInRoot(path(pid, 'root'), file, { timeoutMs: 500 });
      return r.ok ? r.value : undefined;
    },
    listRootDir(pid, dir) {
      const names: string[] = [];
      const r = walkInRoot(path(pid, 'root'), dir, {
        maxDepth: 1,
        maxEntries: ROOT_DIR_MAX_ENTRIES,
        timeoutMs: 500,
        visit: (e) => void names.push(e.path.slice(e.path.lastIndexOf('/') + 1)),
      });
      return r.ok ? names : undefined;
    },
    bootTimeMs() {
      if (boot !== undefined) return boot;
      const raw = text(join(root, 'stat'));
      const m = raw === undefined ? null : /^btime (\d+)$/m.exec(raw);
      if (m?.[1] !== undefined) boot = Number(m[1]) * 1000;
      return boot;
    },
  };
}
