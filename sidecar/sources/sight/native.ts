import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The sight addon (native/sight/sight.c, built by `npm run build:native`): inotify with IN_OPEN, a watch added to a
 * path resolved inside another root by the kernel, a sock_diag destroy socket made in another network namespace,
 * and a readiness poll that hands raw chunks to JavaScript. This file is the only one that loads it; the rest of
 * the code takes a `SightNative` (or its absence) as a parameter.
 *
 * Every call that makes a system call returns a number: a descriptor, a watch descriptor or 0, or -errno.
 */
export interface SightNative {
  /** inotify_init1(IN_NONBLOCK | IN_CLOEXEC): fd or -errno */
  inotifyInit(): number;
  /** inotify_add_watch(fd, path, mask): wd or -errno; a Buffer path is taken as raw bytes */
  inotifyAddWatch(fd: number, path: string | Buffer, mask: number): number;
  /**
   * inotify_add_watch on `path` resolved inside the directory `root` (e.g. `/proc/<pid>/root`) by
   * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): links and `..` never lead out of the root. wd or -errno.
   */
  inotifyAddWatchInRoot(fd: number, root: string | Buffer, path: string | Buffer, mask: number): number;
  /** inotify_rm_watch: 0 or -errno */
  inotifyRmWatch(fd: number, wd: number): number;
  /** close(fd) for a descriptor this addon made (stop its poll first): 0 or -errno */
  closeFd(fd: number): number;
  /**
   * A NETLINK_SOCK_DIAG socket (non-blocking) bound to the TCP/UDP x IPv4/IPv6 destroy groups, made in the network
   * namespace of `netnsPath` (e.g. `/proc/<pid>/ns/net`; joining it needs CAP_SYS_ADMIN) by a short-lived thread of
   * its own, or in ours when null. fd or -errno.
   */
  sockDiagDestroy(netnsPath: string | null): number;
  /**
   * Calls `onChunk(null, chunk)` with what each read(2) of `fd` returned (up to 64 KiB a read, until EAGAIN) each
   * time it is readable; `onChunk(error)` on a read error (`error.code === 'ENOBUFS'`: a netlink queue overflowed,
   * reading goes on). After `close()` no callback runs; close the descriptor afterwards.
   */
  pollFd(fd: number, onChunk: (error: (Error & { code?: string }) | null, chunk?: Buffer) => void): PollHandle;
}

export interface PollHandle {
  close(): void;
}

export type SightNativeLoad = { ok: true; native: SightNative; path: string } | { ok: false; reason: string };

/** Where `npm run build:native` puts the addon, relative to the package root (also its place in the image). */
export const SIGHT_ADDON = 'native/sight/build/Release/sight.node';

/** The line logged when the addon is missing (the watcher goes on with the poller alone). */
export const SIGHT_MISSING_HINT = 'native/sight not built: run npm run build:native';

/**
 * Loads the addon from the package root above this module (the sources, or dist/ and dist/chunks/ of the bundle).
 * Never throws: a missing or unloadable addon is a reason.
 */
export function loadSightNative(): SightNativeLoad {
  if (process.platform !== 'linux')
    return { ok: false, reason: `file sight needs Linux (this is ${process.platform})` };
  let dir = dirname(fileURLToPath(import.meta.url));
  let candidate: string | undefined;
  for (let up = 0; up < 5; up++) {
    const path = join(dir, SIGHT_ADDON);
    if (existsSync(path)) {
      candidate = path;
      break;
    }
    dir = dirname(dir);
  }
  if (candidate === undefined) return { ok: false, reason: SIGHT_MISSING_HINT };
  try {
    const native = createRequire(import.meta.url)(candidate) as SightNative;
    return { ok: true, native, path: candidate };
  } catch (error) {
    return {
      ok: false,
      reason: `${candidate} does not load (${(error as Error).message.split('\n')[0]}): rebuild it with npm run build:native`,
    };
  }
}

/** inotify mask bits (linux/inotify.h). */
export const IN = {
  ACCESS: 0x1,
  MODIFY: 0x2,
  ATTRIB: 0x4,
  CLOSE_WRITE: 0x8,
  CLOSE_NOWRITE: 0x10,
  OPEN: 0x20,
  MOVED_FROM: 0x40,
  MOVED_TO: 0x80,
  CREATE: 0x100,
  DELETE: 0x200,
  DELETE_SELF: 0x400,
  MOVE_SELF: 0x800,
  UNMOUNT: 0x2000,
  Q_OVERFLOW: 0x4000,
  IGNORED: 0x8000,
  ONLYDIR: 0x1000000,
  DONT_FOLLOW: 0x2000000,
  EXCL_UNLINK: 0x4000000,
  MASK_ADD: 0x20000000,
  ISDIR: 0x40000000,
} as const;

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** The name of a negative errno return, for messages (`-13` → `EACCES`). */
export function errnoName(result: number): string {
  return ERRNO_NAMES.get(-result) ?? `errno ${-result}`;
}
