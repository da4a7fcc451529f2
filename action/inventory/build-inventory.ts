import { posix } from 'node:path';
import type {
  InventoryExecutable,
  InventoryPackage,
  InventoryPredicate,
  InventoryUser,
} from '../../shared/seal/index.ts';
import type { FileEntry } from './layer-reader.ts';

/**
 * The inventory predicate of a final rootfs: executables with sha256, symlinks to them,
 * setuid/setgid files, world-writable directories, dpkg and apk packages, /etc/passwd users.
 * Malformed package or passwd records are skipped (tolerant edge), never fatal.
 */
export function buildInventory(fs: ReadonlyMap<string, FileEntry>): InventoryPredicate {
  const executables: InventoryExecutable[] = [];
  const setuid: string[] = [];
  const setgid: string[] = [];
  const worldWritableDirs: string[] = [];
  let files = 0;
  let bytes = 0;
  for (const [path, entry] of fs) {
    const abs = `/${path}`;
    if (entry.type === 'dir' && (entry.mode & 0o002) !== 0) worldWritableDirs.push(abs);
    if (entry.type !== 'file') continue;
    files += 1;
    bytes += entry.size;
    if ((entry.mode & 0o4000) !== 0) setuid.push(abs);
    if ((entry.mode & 0o2000) !== 0) setgid.push(abs);
    if ((entry.mode & 0o111) !== 0 && entry.sha256 !== undefined) {
      executables.push({
        path: abs,
        sha256: entry.sha256,
        size: entry.size,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        setuid: (entry.mode & 0o4000) !== 0,
        setgid: (entry.mode & 0o2000) !== 0,
      });
    }
  }
  const executablePaths = new Set(executables.map((e) => e.path));
  const symlinks: { path: string; target: string }[] = [];
  for (const [path, entry] of fs) {
    if (entry.type !== 'symlink') continue;
    const resolved = resolveSymlink(fs, path);
    if (resolved !== undefined && executablePaths.has(`/${resolved}`)) {
      symlinks.push({ path: `/${path}`, target: `/${resolved}` });
    }
  }
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const text = (p: string) => fs.get(p)?.content?.toString('utf8');
  const packages: InventoryPackage[] = [];
  const dpkg = text('var/lib/dpkg/status');
  if (dpkg !== undefined) packages.push(...parseDpkgStatus(dpkg));
  for (const [path, entry] of fs) {
    if (path.startsWith('var/lib/dpkg/status.d/') && entry.content) {
      packages.push(...parseDpkgStatus(entry.content.toString('utf8'), true));
    }
  }
  const apk = text('lib/apk/db/installed');
  if (apk !== undefined) packages.push(...parseApkInstalled(apk));
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const passwd = text('etc/passwd');
  return {
    files,
    bytes,
    executables: executables.sort(byPath),
    symlinks: symlinks.sort(byPath),
    setuid: setuid.sort(),
    setgid: setgid.sort(),
    worldWritableDirs: worldWritableDirs.sort(),
    packages,
    users: passwd === undefined ? [] : parsePasswd(passwd),
  };
}

/** Follows symlinks inside the image (at most 16 hops); undefined when dangling or looping. */
export function resolveSymlink(fs: ReadonlyMap<string, FileEntry>, path: string): string | undefined {
  let current = path;
  for (let hop = 0; hop < 16; hop++) {
    const entry = fs.get(current);
    if (entry === undefined) return undefined;
    if (entry.type !== 'symlink') return current;
    const target = entry.target ?? '';
    const next = target.startsWith('/') ? target : posix.join(posix.dirname(`/${current}`), target);
    current = posix.normalize(next).replace(/^\/+/, '');
  }
  return undefined;
}

/** dpkg status (or a distroless status.d file): paragraphs of `Field: value`. */
export function parseDpkgStatus(text: string, statusDir = false): InventoryPackage[] {
  const out: InventoryPackage[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of paragraph.split('\n')) {
      const m = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    if (!name || !version) continue;
    const status = fields.get('status');
    if (!statusDir && status !== undefined && !/\binstalled$/.test(status)) continue;
    const arch = fields.get('architecture');
    out.push({ manager: 'dpkg', name, version, ...(arch ? { arch } : {}) });
  }
  return out;
}

/** apk's installed db: paragraphs of `X:value` lines (P name, V version, A arch). */
export function parseApkInstalled(text: string): InventoryPackage[] {
  const out: InventoryPackage[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of paragraph.split('\n')) {
      if (line.length > 2 && line[1] === ':' && !fields.has(line[0]!)) fields.set(line[0]!, line.slice(2).trim());
    }
    const name = fields.get('P');
    const version = fields.get('V');
    if (!name || !version) continue;
    const arch = fields.get('A');
    out.push({ manager: 'apk', name, version, ...(arch ? { arch } : {}) });
  }
  return out;
}

export function parsePasswd(text: string): InventoryUser[] {
  const users: InventoryUser[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [name, , uid, gid, , home, shell] = line.split(':');
    if (!name || uid === undefined || gid === undefined || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    users.push({ name, uid: Number(uid), gid: Number(gid), home: home ?? '', shell: shell ?? '' });
  }
  return users;
}
