import { statInRoot, walkInRoot } from '../../../shared/fs/index.ts';
import { isSensitivePath, SYSTEM_DIRS } from '../../evaluate/rules/builtin/file-rules.ts';
import { WRITABLE_DIRS } from '../setuid-scan.ts';
import { IN } from './native.ts';

/**
 * What file sight watches in a root, most important first. Watches are a budget (fs.inotify.max_user_watches, shared
 * by every inotify user of the uid): when it runs out, the classes at the end are given up first.
 * - `dropped`: an executable written at runtime (drift): its first exec is what enforce kills;
 * - `sensitive`: the files of `sensitive-file-open` (a credential read is the action to see);
 * - `executable`: the sealed inventory's executables (unsealed: those in the PATH directories), for execs;
 * - `system-dir`: the directories of `write-below-system-dir`, for writes (a write is rarer and slower than an exec);
 * - `writable`: /tmp, /var/tmp, /dev/shm and the app's writable mounts, where payloads are dropped.
 */
export const WATCH_CLASSES = ['dropped', 'sensitive', 'executable', 'system-dir', 'writable'] as const;
export type WatchClass = (typeof WATCH_CLASSES)[number];

export interface PlannedWatch {
  path: string;
  cls: WatchClass;
  dir: boolean;
}

/** On a file: it was opened (an exec included). */
export const FILE_MASK = IN.OPEN;
/** On a directory: an entry was written, created, moved in, or had its mode or owner changed. */
export const DIR_MASK = IN.CLOSE_WRITE | IN.CREATE | IN.MOVED_TO | IN.ATTRIB | IN.ONLYDIR;
/**
 * On a writable place also its entries' opens: an executable dropped there and run at once is opened before a watch
 * of its own could be added (opens of other files there are read and ignored).
 */
export const WRITABLE_MASK = DIR_MASK | IN.OPEN;

/** The PATH directories of an image without an inventory (the usual Debian/Alpine default PATH). */
export const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;

/** Where `sensitive-file-open`'s globs are looked for (with how deep): its paths are under these. */
const SENSITIVE_HOMES: ReadonlyArray<readonly [string, number]> = [
  ['/etc', 2],
  ['/root', 4],
  ['/home', 5],
];

const WALK = { maxEntries: 20_000, timeoutMs: 1_000 } as const;

export interface Mount {
  point: string;
  options: string;
  fstype: string;
}

/** The mounts of a mountinfo text (proc(5)); octal escapes decoded. Bounded to `max` lines; hostile input is skipped. */
export function mountsOf(mountinfo: string, max = 4096): Mount[] {
  const mounts: Mount[] = [];
  for (const line of mountinfo.split('\n', max)) {
    const fields = line.split(' ');
    const point = fields[4];
    if (point === undefined || !point.startsWith('/')) continue;
    const dash = fields.indexOf('-', 6);
    mounts.push({
      point: point.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      options: fields[5] ?? '',
      fstype: dash === -1 ? '' : (fields[dash + 1] ?? ''),
    });
  }
  return mounts;
}

const PSEUDO_FS = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'securityfs', 'debugfs', 'bpf']);

/** The app's writable mounts where something could be dropped (not /, not /proc, /sys or /dev but /dev/shm). */
export function writableMounts(mountinfo: string): string[] {
  return mountsOf(mountinfo)
    .filter(
      (m) =>
        m.point !== '/' &&
        m.options.split(',').includes('rw') &&
        !PSEUDO_FS.has(m.fstype) &&
        !/^\/(proc|sys)(\/|$)/.test(m.point) &&
        (!/^\/dev(\/|$)/.test(m.point) || m.point === '/dev/shm'),
    )
    .map((m) => m.point);
}

/**
 * The watches for `root` (e.g. `/proc/<pid>/root`), most important first. Everything is looked up inside the root
 * (shared/fs): a link never leads out of it. Symlinks are not watched themselves (inotify watches the file behind a
 * path; the exec is reported by the executable's own path, as /proc/<pid>/exe names it).
 */
export function planWatches(
  root: string,
  input: { executables?: readonly string[]; mountinfo?: string },
): PlannedWatch[] {
  const out: PlannedWatch[] = [];
  const seen = new Set<string>();
  const add = (path: string, cls: WatchClass, dir: boolean): void => {
    if (seen.has(path)) return;
    seen.add(path);
    out.push({ path, cls, dir });
  };
  const isDir = (path: string): boolean => {
    const st = statInRoot(root, path, { lstat: true, timeoutMs: 250 });
    return st.ok && st.value.isDirectory();
  };

  for (const [start, maxDepth] of SENSITIVE_HOMES) {
    walkInRoot(root, start, {
      ...WALK,
      maxDepth,
      visit: (e) => {
        if (e.stat.isFile() && isSensitivePath(e.path)) add(e.path, 'sensitive', false);
      },
    });
  }

  if (input.executables !== undefined) {
    for (const path of input.executables) {
      const st = statInRoot(root, path, { lstat: true, timeoutMs: 250 });
      if (st.ok && st.value.isFile()) add(path, 'executable', false);
    }
  } else {
    for (const dir of PATH_DIRS) {
      walkInRoot(root, dir, {
        ...WALK,
        maxDepth: 1,
        visit: (e) => {
          if (e.stat.isFile() && (e.stat.mode & 0o111) !== 0) add(e.path, 'executable', false);
        },
      });
    }
  }

  for (const dir of SYSTEM_DIRS) {
    if (!isDir(dir)) continue; // missing, or a link to another system dir (merged /usr): watched there
    add(dir, 'system-dir', true);
    if (dir === '/etc') {
      // /etc/cron.d, /etc/ssh, /etc/sudoers.d, ...: one level down
      walkInRoot(root, dir, {
        ...WALK,
        maxDepth: 1,
        visit: (e) => {
          if (e.stat.isDirectory()) add(e.path, 'system-dir', true);
        },
      });
    }
  }

  const writable = [...WRITABLE_DIRS, ...(input.mountinfo ? writableMounts(input.mountinfo) : [])];
  for (const dir of writable) if (isDir(dir)) add(dir, 'writable', true);
  return out;
}
