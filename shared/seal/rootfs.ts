import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VerificationError, EnvironmentError, errnoCode } from '../errors/index.ts';
import { SEAL_FILE } from './label.ts';
import { parseSealJsonl, type ParsedSeal } from './parse.ts';

/**
 * Reads `<rootDir>/.sealwatch/seal.jsonl`: an unpacked rootfs, or a neighbour container's
 * filesystem seen through `/proc/<pid>/root`. Throws VerificationError('UNSEALED') when the file is
 * absent, EnvironmentError('PERMISSION_DENIED'|'IO') when it cannot be read. Verify the result
 * with `verifySeal`.
 */
export function readSealFromRootfs(rootDir: string): ParsedSeal {
  const path = join(rootDir, SEAL_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new VerificationError('UNSEALED', `${path}: no seal (the image was not sealed)`, { cause: error });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new EnvironmentError('PERMISSION_DENIED', `${path}: permission denied (needs root or CAP_SYS_PTRACE)`, {
        cause: error,
      });
    }
    throw new EnvironmentError('IO', `${path}: cannot read (${code ?? String(error)})`, { cause: error });
  }
  return parseSealJsonl(text, path);
}
