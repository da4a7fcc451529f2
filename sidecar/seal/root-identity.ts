import { createHash } from 'node:crypto';
import { closeSync, readSync, statSync } from 'node:fs';
import { openFileInRoot, walkInRoot } from '../../shared/fs/index.ts';
import { mountsOf } from '../sources/sight/watch-plan.ts';
import type { InventoryExecutable } from '../../shared/seal/index.ts';

/**
 * Seal identity without an engine: does the seal found in a root filesystem belong to it? In a pod (or on a
 * containerd node) nothing can say which image a container runs, so the root's own files are compared with the
 * seal's signed inventory, through `/proc/<pid>/root`:
 *  - at start, every sealed executable is looked at (size and permission bits from lstat, then its sha256), the
 *    processes' own executables first, then the smallest first, within a time and an I/O budget; what the
 *    budget leaves is checked on its first exec;
 *  - the root is walked (one directory per step, yielding between steps) for executables the inventory does
 *    not hold: a seal copied into another image names that image's files as added;
 *  - mounts other than the root (volumes, /proc, /dev, the service-account token) are not the image's files
 *    and are skipped.
 * Any difference makes the seal not this root's: `seal.invalid` with the paths that differ.
 *
 * Every read goes through shared/fs (resolved inside the root, no link followed out of it, regular files only,
 * size caps); hashing is asynchronous in 1 MiB chunks, so a watcher using this is never blocked for long.
 * Owners are not compared: a user namespace shifts them as seen from outside the pod.
 */
export interface RootIdentityOptions {
  /** the app's root filesystem, `/proc/<pid>/root` */
  root: string;
  executables: readonly InventoryExecutable[];
  /** mount points inside the root other than `/` (from the app's mountinfo): not the image's files */
  mounts?: readonly string[];
  /** checked first: the executables of the processes running now */
  first?: readonly string[];
  /** start-up budget; what is left is checked on first exec */
  budgetMs?: number;
  budgetBytes?: number;
  /** a single executable over this is not hashed (reported unverified) */
  maxFileBytes?: number;
  /** the walk for added executables stops after this many entries (reported incomplete) */
  maxWalkEntries?: number;
  /** the clock (tests) */
  now?: () => number;
  /** told of each file opened in the root, before it is opened (file sight does not report our own reads) */
  onOpen?: (path: string) => void;
}

export type DifferenceKind = 'changed' | 'mode' | 'missing' | 'added';

export interface IdentityDifference {
  path: string;
  kind: DifferenceKind;
  detail: string;
}

export interface IdentityProgress {
  state: 'pending' | 'checking' | 'done';
  /** sealed executables */
  executables: number;
  /** compared so far (at start and on first exec) */
  checked: number;
  /** left by the start-up budget, checked on their first exec */
  deferred: number;
  /** could not be read (permission, too large, a read error): neither verified nor a difference */
  unverified: number;
  /** under a mount that is not the image's */
  skipped: number;
  bytesTotal: number;
  bytesHashed: number;
  /** entries the walk for added executables looked at, and whether it saw the whole root */
  walked: number;
  walkComplete: boolean;
  differences: number;
  startedAt?: string;
  elapsedMs: number;
  /** why the start-up check stopped early: `time` or `bytes` budget */
  budgetExhausted?: 'time' | 'bytes';
  /** the process whose root was checked exited during the check: what was left is unverified */
  rootGone?: boolean;
}

export interface RootIdentityCheck {
  /** The start-up check; resolves with the differences found (empty: every file looked at matches). */
  start(): Promise<IdentityDifference[]>;
  /**
   * An exec of `path` in the root: a sealed executable not yet compared is compared now (with `sha256` when the
   * caller already hashed it, else hashed here). Resolves with the difference, if any; once per path.
   */
  onExec(path: string, sha256?: string): Promise<IdentityDifference | undefined>;
  progress(): IdentityProgress;
  differences(): readonly IdentityDifference[];
}

const CHUNK = 1024 * 1024;
const PSEUDO = ['/proc', '/sys', '/dev'];
/** The longest the check holds the event loop before it yields (ms). */
const SLICE_MS = 10;
/** The longest one directory is read for (one synchronous call); a directory cut short leaves the walk incomplete. */
const DIR_MS = 250;

/**
 * Work in slices: `due()` yields to the event loop once SLICE_MS have passed since the last yield. Synchronous
 * reads in between are cheaper than a thread-pool round trip per 10 kB file, and the watcher still ticks.
 */
function slicer(now: () => number): () => Promise<void> {
  let start = now();
  return async () => {
    if (now() - start < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    start = now();
  };
}

/** sha256 of the first `size` bytes of an open file (the size lstat gave), in 1 MiB chunks, yielding between. */
async function hashFd(
  fd: number,
  size: number,
  due: () => Promise<void>,
  onBytes: (n: number) => void,
): Promise<string> {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  for (let left = size; left > 0;) {
    const n = readSync(fd, chunk, 0, Math.min(chunk.length, left), null);
    if (n === 0) break; // shrank since lstat: the hash will differ
    hash.update(chunk.subarray(0, n));
    onBytes(n);
    left -= n;
    await due();
  }
  return hash.digest('hex');
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

export function createRootIdentityCheck(options: RootIdentityOptions): RootIdentityCheck {
  const now = options.now ?? Date.now;
  const budgetMs = options.budgetMs ?? 30_000;
  const budgetBytes = options.budgetBytes ?? 1024 * 1024 * 1024;
  const maxFileBytes = options.maxFileBytes ?? 512 * 1024 * 1024;
  const mounts = [...PSEUDO, ...(options.mounts ?? [])].filter((m) => m !== '/');
  const underMount = (path: string): boolean => mounts.some((m) => path === m || path.startsWith(`${m}/`));
  const sealed = new Map(options.executables.map((e) => [e.path, e] as const));
  /** paths compared (or skipped, or unverifiable): never looked at twice */
  const done = new Set<string>();
  const found: IdentityDifference[] = [];
  const progress: IdentityProgress = {
    state: 'pending',
    executables: sealed.size,
    checked: 0,
    deferred: 0,
    unverified: 0,
    skipped: 0,
    bytesTotal: options.executables.reduce((n, e) => n + e.size, 0),
    bytesHashed: 0,
    walked: 0,
    walkComplete: false,
    differences: 0,
    elapsedMs: 0,
  };
  let startedMs: number | undefined;
  const due = slicer(now);
  const rootAlive = (): boolean => {
    try {
      statSync(options.root);
      return true;
    } catch {
      return false;
    }
  };

  const differ = (d: IdentityDifference): IdentityDifference => {
    found.push(d);
    progress.differences = found.length;
    return d;
  };

  /** Compares one sealed executable with the root's file at its path. */
  async function compare(e: InventoryExecutable, known?: string): Promise<IdentityDifference | undefined> {
    done.add(e.path);
    if (underMount(e.path)) {
      progress.skipped++;
      return undefined;
    }
    options.onOpen?.(e.path);
    const open = openFileInRoot(options.root, e.path, { maxBytes: maxFileBytes, links: 'refuse' });
    if (!open.ok) {
      if (!rootAlive()) {
        // the process whose root this is has exited: nothing can be said about the file
        progress.rootGone = true;
        progress.unverified++;
        return undefined;
      }
      if (open.reason === 'missing' || open.reason === 'not-regular' || open.reason === 'link-refused') {
        progress.checked++;
        return differ({
          path: e.path,
          kind: 'missing',
          detail: `${e.path} is sealed but ${open.reason === 'missing' ? 'missing' : 'no longer a regular file'}`,
        });
      }
      progress.unverified++;
      return undefined;
    }
    const { fd, stat } = open.value;
    try {
      const setuid = (stat.mode & 0o4000) !== 0;
      const setgid = (stat.mode & 0o2000) !== 0;
      if ((stat.mode & 0o777) !== (e.mode & 0o777) || setuid !== e.setuid || setgid !== e.setgid) {
        progress.checked++;
        const sealedMode = (e.mode & 0o777) | (e.setuid ? 0o4000 : 0) | (e.setgid ? 0o2000 : 0);
        return differ({
          path: e.path,
          kind: 'mode',
          detail: `${e.path} mode ${octal(stat.mode)}, sealed ${octal(sealedMode)}`,
        });
      }
      if (stat.size !== e.size) {
        progress.checked++;
        return differ({ path: e.path, kind: 'changed', detail: `${e.path} is ${stat.size} bytes, sealed ${e.size}` });
      }
      const sha256 = known ?? (await hashFd(fd, stat.size, due, (n) => (progress.bytesHashed += n)));
      progress.checked++;
      return sha256 === e.sha256
        ? undefined
        : differ({
            path: e.path,
            kind: 'changed',
            detail: `${e.path} sha256 ${sha256.slice(0, 12)}…, sealed ${e.sha256.slice(0, 12)}…`,
          });
    } catch {
      progress.unverified++;
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** Walks the root one directory at a time for regular files with an execute bit that are not sealed. */
  async function walkForAdded(deadline: number): Promise<void> {
    const maxEntries = options.maxWalkEntries ?? 200_000;
    const queue = ['/'];
    const queued = new Set(queue);
    const reported = new Set<string>();
    /** reads of a directory cut by the time limit: a busy machine can stretch a small one; read again, twice */
    const attempts = new Map<string, number>();
    let cut = false;
    while (queue.length > 0) {
      if (now() > deadline || progress.walked >= maxEntries || progress.rootGone) return;
      const dir = queue.shift()!;
      const result = walkInRoot(options.root, dir, {
        maxDepth: 1,
        maxEntries: maxEntries - progress.walked,
        links: 'refuse',
        // one directory is read in one synchronous call: a directory the image made huge is cut, not waited for
        timeoutMs: DIR_MS,
        visit: (entry) => {
          if (underMount(entry.path)) return 'skip';
          if (entry.stat.isDirectory()) {
            if (!queued.has(entry.path)) {
              queued.add(entry.path);
              queue.push(entry.path);
            }
          } else if (
            entry.stat.isFile() &&
            (entry.stat.mode & 0o111) !== 0 &&
            entry.stat.size > 0 && // an empty file runs nothing (the engine's own /.dockerenv is one)
            !sealed.has(entry.path) &&
            !reported.has(entry.path)
          ) {
            reported.add(entry.path);
            differ({
              path: entry.path,
              kind: 'added',
              detail: `${entry.path} is an executable the seal does not hold`,
            });
          }
          return 'skip';
        },
      });
      if (result.ok) {
        const tries = (attempts.get(dir) ?? 0) + 1;
        attempts.set(dir, tries);
        if (result.value.stopped === 'timeout' && tries < 3) {
          queue.push(dir);
        } else {
          progress.walked += result.value.entries;
          if (!result.value.complete) cut = true;
        }
      } else if (!rootAlive()) progress.rootGone = true;
      await due();
    }
    progress.walkComplete = !cut;
  }

  return {
    async start() {
      startedMs = now();
      progress.startedAt = new Date(startedMs).toISOString();
      progress.state = 'checking';
      const deadline = startedMs + budgetMs;
      const firsts = new Set(options.first ?? []);
      const order = [...sealed.values()].sort(
        (a, b) =>
          Number(firsts.has(b.path)) - Number(firsts.has(a.path)) || a.size - b.size || (a.path < b.path ? -1 : 1),
      );
      let spent = 0;
      for (const e of order) {
        if (done.has(e.path)) continue;
        if (progress.rootGone) {
          progress.unverified++;
          continue;
        }
        if (now() > deadline) progress.budgetExhausted ??= 'time';
        else if (spent + e.size > budgetBytes) progress.budgetExhausted ??= 'bytes';
        if (progress.budgetExhausted) {
          progress.deferred++;
          continue;
        }
        spent += e.size;
        await compare(e);
        await due();
        progress.elapsedMs = now() - startedMs;
      }
      await walkForAdded(deadline);
      progress.elapsedMs = now() - startedMs;
      progress.state = 'done';
      return [...found];
    },
    async onExec(path, sha256) {
      const e = sealed.get(path);
      if (!e || done.has(path)) return undefined;
      if (progress.deferred > 0) progress.deferred--;
      return compare(e, sha256);
    },
    progress: () => ({
      ...progress,
      ...(progress.state === 'checking' && startedMs !== undefined ? { elapsedMs: now() - startedMs } : {}),
    }),
    differences: () => found,
  };
}

/**
 * One line naming what differs, at most `max` paths and the count of the rest, e.g.
 * `the root's files differ from the sealed inventory: /app/server sha256 3f…, sealed 9a…; /bin/x is an executable
 * the seal does not hold; and 4 more`. Paths are attacker text: the formatters escape them.
 */
export function describeDifferences(differences: readonly IdentityDifference[], max = 8): string {
  const shown = differences.slice(0, max).map((d) => d.detail);
  const rest = differences.length - shown.length;
  return `the root's files differ from the sealed inventory (a seal of another image, or files changed after sealing): ${shown.join('; ')}${rest > 0 ? `; and ${rest} more` : ''}`;
}

/**
 * Mount points of a process's mount namespace as its root sees them (`/proc/<pid>/mountinfo`, field 5, octal
 * escapes decoded), `/` excluded. Bounded: at most `max` lines are read.
 */
export function mountPointsOf(mountinfo: string, max = 4096): string[] {
  return mountsOf(mountinfo, max)
    .map((m) => m.point)
    .filter((point) => point !== '/');
}
