import { statSync } from 'node:fs';

/** Identity of a root filesystem as seen through /proc (device + inode of `/proc/<pid>/root`). */
export function rootKey(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}
