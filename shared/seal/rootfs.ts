import { EnvironmentError, VerificationError } from '../errors/index.ts';
import { readFileInRoot } from '../fs/index.ts';
import { SEAL_FILE, SEAL_FILE_MAX_BYTES } from './label.ts';
import { parseSealJsonl, type ParsedSeal } from './parse.ts';

/**
 * Reads `<rootDir>/.sealwatch/seal.jsonl`: an unpacked rootfs, or a neighbour container's filesystem seen
 * through `/proc/<pid>/root`, which its workload controls. The file is read inside that root only: `seal` writes
 * `/.sealwatch` and the seal as a plain directory and a plain file, so any symlink on the way, a FIFO, a device
 * or a file over SEAL_FILE_MAX_BYTES makes the seal invalid (VerificationError('BUNDLE_INVALID') with the
 * reason), never a blocked or misled reader. Throws VerificationError('UNSEALED') when the file is absent,
 * EnvironmentError('PERMISSION_DENIED'|'IO') when it cannot be read. Verify the result with `verifySeal`.
 */
export function readSealFromRootfs(rootDir: string, options: { timeoutMs?: number } = {}): ParsedSeal {
  const path = `${rootDir}/${SEAL_FILE}`;
  const result = readFileInRoot(rootDir, SEAL_FILE, {
    maxBytes: SEAL_FILE_MAX_BYTES,
    links: 'refuse',
    timeoutMs: options.timeoutMs,
  });
  if (result.ok) return parseSealJsonl(result.value.toString('utf8'), path);
  const why = `${rootDir}: ${result.detail}`;
  switch (result.reason) {
    case 'missing':
      throw new VerificationError('UNSEALED', `${path}: no seal (the image was not sealed)`);
    case 'denied':
      throw new EnvironmentError('PERMISSION_DENIED', `${why} (needs root or CAP_SYS_PTRACE)`);
    case 'io':
    case 'timeout':
      throw new EnvironmentError('IO', `${why}: the seal cannot be read`);
    case 'link-refused':
    case 'link-loop':
      throw new VerificationError('BUNDLE_INVALID', `${why} (a seal is a plain file, never reached through a link)`);
    default:
      throw new VerificationError('BUNDLE_INVALID', `${why} (a seal is a plain file of at most 64 MiB)`);
  }
}
