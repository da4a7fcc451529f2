import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  opendirSync,
  readdirSync,
  readlinkSync,
  readSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import { errnoCode } from '../errors/index.ts';

/**
 * Reading files inside a root that someone else controls: a neighbour container's filesystem seen through
 * `/proc/<pid>/root`, or an unpacked image. The kernel would resolve an absolute symlink in such a tree against
 * OUR root (`/proc/<pid>/root/x -> /etc/shadow` reads the host's file), follow `..` out of it, block forever on
 * a FIFO and read `/dev/zero` without end. So the path is resolved here, one component at a time, each
 * directory opened by descriptor (`/proc/self/fd/<dir>/<name>`, i.e. openat) with O_NOFOLLOW:
 *  - an absolute symlink restarts at the root, `..` stops at the root (as `openat2(RESOLVE_IN_ROOT)` does);
 *  - a directory swapped for a link while we walk is refused (O_NOFOLLOW on every component), not followed;
 *  - the file is opened O_NOFOLLOW|O_NONBLOCK|O_NOCTTY and accepted only if fstat says it is a regular file,
 *    the one lstat saw; it is read up to a size cap and a deadline.
 * Outcomes an attacker can cause are results, not exceptions (`{ ok: false, reason, detail }`), so a watcher
 * can count and report them without a try around every read.
 *
 * Known limit: a read that hangs inside the kernel (a FUSE filesystem served by the workload) cannot be
 * interrupted from a synchronous call; the deadline is checked between components and between chunks.
 */

/** Why a file inside the root was not read. */
export type InRootFailure =
  /** no such file, or a path component is not a directory */
  | 'missing'
  /** a FIFO, device, socket or directory where a regular file was expected */
  | 'not-regular'
  /** larger than the cap */
  | 'too-large'
  /** more than MAX_LINKS symlinks on the way */
  | 'link-loop'
  /** a symlink on the way, and the caller allows none */
  | 'link-refused'
  /** the tree changed between two steps of the walk (a component swapped for a link) */
  | 'changed'
  | 'denied'
  | 'timeout'
  | 'io';

export type InRootResult<T> = { ok: true; value: T } | { ok: false; reason: InRootFailure; detail: string };

export interface InRootOptions {
  /**
   * `follow` (default): symlinks are followed, resolved inside the root. `refuse`: any symlink on the path
   * fails with `link-refused` (for files we wrote ourselves as plain files, like the seal).
   */
  links?: 'follow' | 'refuse';
  /** Overall deadline for the call, in milliseconds (default 2,000). */
  timeoutMs?: number;
}

export interface ReadInRootOptions extends InRootOptions {
  /** Size cap in bytes: a larger file fails with `too-large` (nothing past the cap is read). */
  maxBytes: number;
}

/** Linux's own limit on symlinks followed in one resolution. */
export const MAX_LINKS = 40;
const SLASH = 0x2f;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

const fdPath = (fd: number, name?: Buffer): Buffer =>
  name === undefined ? Buffer.from(`/proc/self/fd/${fd}`) : Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), name]);

function splitPath(path: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === SLASH) {
      if (i > start) parts.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/** What a non-regular file is, for messages. */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'regular file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'FIFO';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'special file';
}

function failure(reason: InRootFailure, detail: string): { ok: false; reason: InRootFailure; detail: string } {
  return { ok: false, reason, detail };
}

function fromErrno(error: unknown, what: string): { ok: false; reason: InRootFailure; detail: string } {
  const code = errnoCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return failure('missing', `${what}: not found`);
  if (code === 'EACCES' || code === 'EPERM') return failure('denied', `${what}: permission denied`);
  if (code === 'ELOOP') return failure('changed', `${what}: became a symlink while it was read`);
  return failure('io', `${what}: ${code ?? String(error)}`);
}

/** A component resolved: the directory that holds it (an open descriptor) and its lstat. */
interface Resolved {
  /** descriptors of the directories from the root down to the parent, all open; close with closeAll */
  dirs: number[];
  /** the final name inside dirs[dirs.length - 1]; undefined when the path is the root itself */
  name: Buffer | undefined;
  stat: Stats;
}

function closeAll(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed: nothing to release
    }
  }
}

/** Printable form of a path inside the root (for messages; escaped by whoever prints it). */
const show = (path: string | Buffer): string => {
  const text = path.toString();
  return text.startsWith('/') ? text : `/${text}`;
};

/**
 * Resolves `path` inside `root`. On success the caller owns `dirs` (closeAll). The final component is not
 * followed when it is a symlink and `followLast` is false (lstat semantics).
 */
function resolveInRoot(
  root: string,
  path: string | Buffer,
  options: InRootOptions,
  followLast: boolean,
  deadline: number,
): InRootResult<Resolved> {
  let rootFd: number;
  try {
    rootFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (error) {
    return fromErrno(error, root);
  }
  const dirs = [rootFd];
  const pending = splitPath(Buffer.isBuffer(path) ? path : Buffer.from(path));
  let links = 0;
  const fail = (result: { ok: false; reason: InRootFailure; detail: string }) => {
    closeAll(dirs);
    return result;
  };
  try {
    for (;;) {
      if (Date.now() > deadline) return fail(failure('timeout', `${show(path)}: resolving took too long`));
      const component = pending.shift();
      if (component === undefined) return { ok: true, value: { dirs, name: undefined, stat: fstatSync(rootFd) } };
      const name = component.toString('latin1');
      if (name === '.') {
        if (pending.length === 0) return { ok: true, value: { dirs, name: undefined, stat: fstatSync(dirs.at(-1)!) } };
        continue;
      }
      if (name === '..') {
        if (dirs.length > 1) closeSync(dirs.pop()!);
        if (pending.length === 0) return { ok: true, value: { dirs, name: undefined, stat: fstatSync(dirs.at(-1)!) } };
        continue;
      }
      const parent = dirs.at(-1)!;
      const at = fdPath(parent, component);
      let st: Stats;
      try {
        st = lstatSync(at);
      } catch (error) {
        return fail(fromErrno(error, show(path)));
      }
      const last = pending.length === 0;
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (options.links === 'refuse') return fail(failure('link-refused', `${show(path)}: a symlink on the path`));
        if (++links > MAX_LINKS) return fail(failure('link-loop', `${show(path)}: more than ${MAX_LINKS} symlinks`));
        let target: Buffer;
        try {
          target = readlinkSync(at, { encoding: 'buffer' });
        } catch (error) {
          return fail(fromErrno(error, show(path)));
        }
        if (target[0] === SLASH) {
          // absolute: resolved from the root we were given, never from ours
          closeAll(dirs.splice(1));
        }
        pending.unshift(...splitPath(target));
        if (pending.length === 0) return { ok: true, value: { dirs, name: undefined, stat: fstatSync(dirs.at(-1)!) } };
        continue;
      }
      if (last) return { ok: true, value: { dirs, name: component, stat: st } };
      if (!st.isDirectory()) return fail(failure('missing', `${show(path)}: a path component is a ${fileKind(st)}`));
      try {
        dirs.push(openSync(at, DIR_FLAGS));
      } catch (error) {
        return fail(fromErrno(error, show(path)));
      }
    }
  } catch (error) {
    return fail(fromErrno(error, show(path)));
  }
}

const deadlineOf = (options: InRootOptions): number => Date.now() + (options.timeoutMs ?? 2_000);

/**
 * Opens the regular file at `path` inside `root` for reading, with readFileInRoot's checks (never a FIFO,
 * device or directory, never a file outside the root, the file lstat saw, at most `maxBytes` bytes at open).
 * For files read in chunks (hashing a large executable); the caller closes `fd`.
 */
export function openFileInRoot(
  root: string,
  path: string,
  options: ReadInRootOptions,
): InRootResult<{ fd: number; stat: Stats }> {
  const resolved = resolveInRoot(root, path, options, true, deadlineOf(options));
  if (!resolved.ok) return resolved;
  const { dirs, name, stat } = resolved.value;
  try {
    if (name === undefined || !stat.isFile()) {
      return failure('not-regular', `${show(path)}: a ${fileKind(stat)}, not a regular file`);
    }
    if (stat.size > options.maxBytes) {
      return failure('too-large', `${show(path)}: ${stat.size} bytes, over the ${options.maxBytes}-byte limit`);
    }
    let fd: number;
    try {
      fd = openSync(fdPath(dirs.at(-1)!, name), FILE_FLAGS);
    } catch (error) {
      return fromErrno(error, show(path));
    }
    let opened: Stats;
    try {
      opened = fstatSync(fd);
    } catch (error) {
      closeSync(fd);
      return fromErrno(error, show(path));
    }
    if (!opened.isFile() || opened.ino !== stat.ino || opened.dev !== stat.dev) {
      closeSync(fd);
      return failure('changed', `${show(path)}: replaced while it was opened`);
    }
    return { ok: true, value: { fd, stat: opened } };
  } finally {
    closeAll(dirs);
  }
}

/**
 * Reads the regular file at `path` inside `root` (see the module comment): never a FIFO, device or directory,
 * never a file outside the root, at most `maxBytes` bytes.
 */
export function readFileInRoot(root: string, path: string, options: ReadInRootOptions): InRootResult<Buffer> {
  const deadline = deadlineOf(options);
  const open = openFileInRoot(root, path, options);
  if (!open.ok) return open;
  const { fd, stat: opened } = open.value;
  try {
    // one byte past the cap tells a file that grew after lstat
    const buffer = Buffer.allocUnsafe(Math.min(options.maxBytes + 1, Math.max(opened.size + 1, 64 * 1024)));
    let length = 0;
    let data = buffer;
    for (;;) {
      if (Date.now() > deadline) return failure('timeout', `${show(path)}: reading took too long`);
      if (length === data.length) {
        if (data.length > options.maxBytes) break;
        const bigger = Buffer.allocUnsafe(Math.min(options.maxBytes + 1, data.length * 2));
        data.copy(bigger, 0, 0, length);
        data = bigger;
      }
      const n = readSync(fd, data, length, data.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > options.maxBytes) {
      return failure('too-large', `${show(path)}: over the ${options.maxBytes}-byte limit`);
    }
    return { ok: true, value: data.subarray(0, length) };
  } catch (error) {
    return fromErrno(error, show(path));
  } finally {
    closeSync(fd);
  }
}

/**
 * stat of `path` inside `root`: the target of in-root symlinks with `links: 'follow'` (stat semantics), the
 * link itself when `lstat` is set.
 */
export function statInRoot(
  root: string,
  path: string,
  options: InRootOptions & { lstat?: boolean } = {},
): InRootResult<Stats> {
  const resolved = resolveInRoot(root, path, options, !options.lstat, deadlineOf(options));
  if (!resolved.ok) return resolved;
  closeAll(resolved.value.dirs);
  return { ok: true, value: resolved.value.stat };
}

/** Opens the directory at `path` inside `root` (in-root links followed as options say): its descriptor, yours to close. */
function openDirFd(
  root: string,
  path: string | Buffer,
  options: InRootOptions,
  deadline: number,
): InRootResult<number> {
  const resolved = resolveInRoot(root, path, options, true, deadline);
  if (!resolved.ok) return resolved;
  const { dirs, name, stat } = resolved.value;
  try {
    if (!stat.isDirectory()) return failure('not-regular', `${show(path)}: a ${fileKind(stat)}, not a directory`);
    // the root itself: reopen our own descriptor (its /proc/self/fd link is ours to follow)
    const fd =
      name === undefined
        ? openSync(fdPath(dirs.at(-1)!), constants.O_RDONLY | constants.O_DIRECTORY)
        : openSync(fdPath(dirs.at(-1)!, name), DIR_FLAGS);
    return { ok: true, value: fd };
  } catch (error) {
    return fromErrno(error, show(path));
  } finally {
    closeAll(dirs);
  }
}

/** A directory inside the root, held open by descriptor (close it): its entries by name, as bytes. */
export interface DirInRoot {
  /** the names of its entries, exact bytes (names need not be UTF-8), in readdir order */
  readonly names: readonly Buffer[];
  /** lstat of one entry of this very directory (never followed; a swap of the directory itself changes nothing) */
  lstat(name: Buffer): Stats | undefined;
  close(): void;
}

/**
 * Opens the directory at `path` inside `root` (resolved like readFileInRoot; `path` may be bytes) and lists it, for
 * a caller that looks at its entries a few at a time (the setuid scan spreads a crowded /tmp over several ticks).
 */
export function openDirInRoot(
  root: string,
  path: string | Buffer,
  options: InRootOptions = {},
): InRootResult<DirInRoot> {
  const opened = openDirFd(root, path, options, deadlineOf(options));
  if (!opened.ok) return opened;
  const fd = opened.value;
  let names: Buffer[];
  try {
    names = readdirSync(fdPath(fd), { encoding: 'buffer' });
  } catch (error) {
    closeSync(fd);
    return fromErrno(error, show(path));
  }
  let open = true;
  return {
    ok: true,
    value: {
      names,
      lstat(entry) {
        try {
          return lstatSync(fdPath(fd, entry));
        } catch {
          return undefined;
        }
      },
      close() {
        if (open) closeSync(fd);
        open = false;
      },
    },
  };
}

/** One entry met by walkInRoot. */
export interface RootEntry {
  /** its path inside the root, `/`-separated, starting with `/`; non-UTF-8 bytes decoded as U+FFFD */
  path: string;
  /** the same path as the exact bytes (names need not be UTF-8) */
  raw: Buffer;
  /** lstat: a symlink is reported as a symlink, never followed */
  stat: Stats;
  /** 1 for an entry of the start directory */
  depth: number;
}

export interface WalkInRootOptions extends InRootOptions {
  /** how deep to descend below the start directory (1 = its entries only) */
  maxDepth: number;
  /** stop after this many entries (the walk reports itself incomplete) */
  maxEntries: number;
  /** called for each entry; return `skip` to not descend into a directory */
  visit(entry: RootEntry): void | 'skip';
}

export interface WalkSummary {
  entries: number;
  /** true when every directory was read to its end; otherwise why not */
  complete: boolean;
  stopped?: 'max-entries' | 'timeout';
  /** directories that could not be opened or read (permission, vanished), by path */
  unreadable: string[];
}

/**
 * Walks the directory `start` inside `root` depth-first, lstat of every entry, without following any symlink
 * (a link is an entry, not a directory) and without leaving the root, within an entry budget and a deadline.
 * `start` itself is resolved like readFileInRoot (in-root links followed unless `links: 'refuse'`).
 */
export function walkInRoot(root: string, start: string, options: WalkInRootOptions): InRootResult<WalkSummary> {
  const deadline = deadlineOf(options);
  const opened = openDirFd(root, start, options, deadline);
  if (!opened.ok) return opened;
  const startFd = opened.value;
  const summary: WalkSummary = { entries: 0, complete: true, unreadable: [] };
  const base = Buffer.from(
    splitPath(Buffer.from(start))
      .map((p) => `/${p.toString('latin1')}`)
      .join(''),
    'latin1',
  );
  const walk = (dirFd: number, dirRaw: Buffer, depth: number): void => {
    let dir;
    try {
      dir = opendirSync(fdPath(dirFd).toString(), { encoding: 'buffer' } as unknown as { encoding: 'utf8' });
    } catch {
      summary.unreadable.push(dirRaw.toString() || '/');
      return;
    }
    try {
      for (;;) {
        if (summary.entries >= options.maxEntries) {
          summary.complete = false;
          summary.stopped ??= 'max-entries';
          return;
        }
        if (Date.now() > deadline) {
          summary.complete = false;
          summary.stopped ??= 'timeout';
          return;
        }
        let dirent: Dirent<Buffer> | null;
        try {
          dirent = dir.readSync() as unknown as Dirent<Buffer> | null;
        } catch {
          summary.unreadable.push(dirRaw.toString() || '/');
          return;
        }
        if (dirent === null) return;
        const entryName = dirent.name;
        const raw = Buffer.concat([dirRaw, Buffer.from('/'), entryName]);
        let st: Stats;
        try {
          st = lstatSync(fdPath(dirFd, entryName));
        } catch {
          continue; // vanished between readdir and lstat
        }
        summary.entries++;
        const verdict = options.visit({ path: raw.toString(), raw, stat: st, depth });
        if (verdict === 'skip' || !st.isDirectory() || depth >= options.maxDepth) continue;
        let child: number;
        try {
          child = openSync(fdPath(dirFd, entryName), DIR_FLAGS);
        } catch {
          summary.unreadable.push(raw.toString());
          continue;
        }
        try {
          walk(child, raw, depth + 1);
        } finally {
          closeSync(child);
        }
        if (summary.stopped) return;
      }
    } finally {
      dir.closeSync();
    }
  };
  try {
    walk(startFd, base, 1);
  } finally {
    closeSync(startFd);
  }
  return { ok: true, value: summary };
}
