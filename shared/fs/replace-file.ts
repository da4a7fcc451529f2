import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `content` atomically: written first to a fresh temp file beside it, opened
 * with O_CREAT|O_EXCL|O_NOFOLLOW (a planted file or symlink makes the open fail instead of being
 * followed or reused) and the final mode from the start, fsync'd, then renamed over `path`.
 * rename() replaces a symlink at `path` itself, never its target. Throws the fs error; leaves no temp file.
 */
export function replaceFileAtomic(path: string, content: string | Buffer, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    try {
      writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Why a directory that will hold private state is unsafe, or undefined when it is safe. */
export function unsafeDirectoryReason(dir: string, uid = process.getuid?.() ?? 0): string | undefined {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== uid) return `is owned by uid ${st.uid}, not by this process (uid ${uid})`;
  if ((st.mode & 0o022) !== 0) return `is writable by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  return undefined;
}
