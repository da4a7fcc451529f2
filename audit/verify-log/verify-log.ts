import { createReadStream } from 'node:fs';
import { EnvironmentError, errnoCode } from '../../shared/errors/index.ts';
import type { TrustedKeys } from '../../shared/signing/index.ts';
import { forEachFileLine } from '../../shared/text/index.ts';
import { createLogVerifier, type LogVerifyResult } from './verifier.ts';

/** Lines longer than this are counted as unreadable, never held whole in memory. */
const MAX_LINE = 1024 * 1024;

/** Verifies the record in one or more log files, read in the order given (rotated files oldest first). */
export async function verifyLogFiles(files: readonly string[], keys: TrustedKeys): Promise<LogVerifyResult> {
  const verifier = createLogVerifier({ keys });
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
      });
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
