import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { replaceFileAtomic } from '../../shared/fs/index.ts';
import { runtimeTraceStatement, type RuntimeTracePredicate } from '../../shared/seal/index.ts';

/**
 * Writes `learn --runtime-trace FILE`: the in-toto statement (JSON) of what learning observed, whose subject is the
 * profile learned from it (its file name and sha256), so the trace and the profile name each other. `seal
 * --runtime-trace FILE` takes the predicate and signs it about the image it seals (the subject is not carried over).
 */
export function writeRuntimeTraceFile(file: string, predicate: RuntimeTracePredicate, profileFile: string): void {
  const profile = readFileSync(profileFile);
  const subject = {
    name: basename(profileFile),
    digest: { sha256: createHash('sha256').update(profile).digest('hex') },
  };
  replaceFileAtomic(file, `${JSON.stringify(runtimeTraceStatement(predicate, subject), null, 2)}\n`, 0o644);
}
