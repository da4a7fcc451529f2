/**
 * Small `/proc` records: fd link targets, fdinfo flags, cgroup lines, /etc/passwd.
 */

/** `socket:[12345]` → 12345; anything else → undefined. */
export function socketInode(linkTarget: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(linkTarget);
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

/** `/proc/<pid>/fdinfo/<fd>` → open flags (octal `flags:` line). */
export function parseFdinfoFlags(text: string): number | undefined {
  const m = /^flags:\s*([0-7]+)$/m.exec(text);
  return m?.[1] !== undefined ? parseInt(m[1], 8) : undefined;
}

export const O_ACCMODE = 0o3;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;

export function isWriteFlags(flags: number): boolean {
  const mode = flags & O_ACCMODE;
  return mode === O_WRONLY || mode === O_RDWR;
}

/**
 * Container id from `/proc/<pid>/cgroup` (cgroup v1 and v2, docker and containerd/cri layouts):
 * the last 64-hex-character run in any line's path.
 */
export function containerIdFromCgroup(text: string): string | undefined {
  let found: string | undefined;
  for (const line of text.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    const matches = path.match(/[0-9a-f]{64}/g);
    if (matches && matches.length > 0) found = matches[matches.length - 1];
  }
  return found;
}

/** `/etc/passwd` → uid → name; malformed lines skipped. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !f[0] || !/^\d+$/.test(f[2] ?? '')) continue;
    const uid = Number(f[2]);
    if (!users.has(uid)) users.set(uid, f[0]);
  }
  return users;
}
