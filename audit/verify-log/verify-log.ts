import { createReadStream, statSync } from 'node:fs';
import { EnvironmentError, errnoCode } from '../../shared/errors/index.ts';
import type { TrustedKeys } from '../../shared/signing/index.ts';
import { forEachFileLine } from '../../shared/text/index.ts';
import { createLogVerifier, type LogVerifyResult } from './verifier.ts';

/** Lines longer than this are counted as unreadable, never held whole in memory. */
const MAX_LINE = 1024 * 1024;

/** How often (in lines) the bytes read so far are reported. */
const PROGRESS_EVERY = 4096;

/**
 * Verifies the record in one or more log files, read in the order given (rotated files oldest first).
 * `onProgress` hears the bytes read of all the files' total size, now and then and at the end.
 */
export async function verifyLogFiles(
  files: readonly string[],
  keys: TrustedKeys,
  onProgress?: (bytes: number, total: number) => void,
): Promise<LogVerifyResult> {
  const verifier = createLogVerifier({ keys });
  // The total is for progress only: a file that cannot be stat'ed fails with its own message when it is opened.
  const total = onProgress === undefined ? 0 : files.reduce((sum, f) => sum + sizeOf(f), 0);
  let before = 0;
  for (const file of files) {
    const input = createReadStream(file, { highWaterMark: 1 << 20 });
    const opened = new Promise<void>((resolve, reject) => {
      input.once('open', () => resolve());
      input.once('error', reject);
    });
    try {
      await opened;
    } catch (error) {
      throw new EnvironmentError('IO', `${file}: cannot be read (${errnoCode(error) ?? String(error)})`, {
        cause: error,
      });
    }
    try {
      await forEachFileLine(input, MAX_LINE, (text, line) => {
        if (text === undefined) verifier.addBad({ file, line });
        else verifier.addLine(text, { file, line });
        if (onProgress !== undefined && line % PROGRESS_EVERY === 0) onProgress(before + input.bytesRead, total);
      });
      before += input.bytesRead;
      onProgress?.(before, total);
    } catch (error) {
      throw new EnvironmentError('IO', `${file}: cannot be read (${errnoCode(error) ?? String(error)})`, {
        cause: error,
      });
    } finally {
      input.destroy();
    }
  }
  return verifier.finish();
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
