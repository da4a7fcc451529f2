import type { ProcFs } from './proc/index.ts';

/**
 * sha256 of executables, computed once per (path, device, inode, mtime, size): a busybox used by
 * fifty processes is read once; a replaced file (new inode or mtime) is hashed again.
 */
export interface HashCache {
  hashOf(pid: number, exe: string): string | undefined;
  readonly size: number;
  readonly hashed: number;
}

export function createHashCache(proc: ProcFs, options: { maxBytes?: number; maxEntries?: number } = {}): HashCache {
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const maxEntries = options.maxEntries ?? 4096;
  const cache = new Map<string, string>();
  let hashed = 0;
  return {
    get size() {
      return cache.size;
    },
    get hashed() {
      return hashed;
    },
    hashOf(pid, exe) {
      const st = proc.exeStat(pid);
      if (!st || !st.isFile() || st.size > maxBytes) return undefined;
      const key = `${exe}\0${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const digest = proc.exeSha256(pid);
      if (digest === undefined) return undefined;
      hashed++;
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(key, digest);
      return digest;
    },
  };
}
