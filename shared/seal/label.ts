import { z } from 'zod';
import { Digest } from '../image/identity.ts';

/** Where the seal lives in an image. */
export const SEAL_LABEL = 'dev.sealwatch.seal';
export const SEAL_DIR = '.sealwatch';
export const SEAL_FILE = '.sealwatch/seal.jsonl';
export const SEAL_LABEL_MAX_BYTES = 4096;
/**
 * The largest seal file read from an image or a root (64 MiB): a seal of 100,000 executables is ~20 MB. A
 * larger one is refused before it is parsed, so a hostile seal cannot make a reader hold gigabytes.
 */
export const SEAL_FILE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The `dev.sealwatch.seal` label: small (< 4 KB), readable with `docker inspect` or from a
 * registry without pulling layers. It is a pointer, not the proof: verification always checks the
 * signed statements in the layer it names.
 */
export const SealLabel = z
  .object({
    v: z.literal(1),
    identity: Digest.describe('image identity the statements are about'),
    layer: Digest.describe('diff_id of the seal layer (the top layer)'),
    keyHint: z.string().describe('cosign-style hint of the signing key'),
    statements: z.number().int().positive(),
    sealedAt: z.string(),
  })
  .strict();
export type SealLabel = z.infer<typeof SealLabel>;

export function formatSealLabel(label: SealLabel): string {
  return JSON.stringify(label);
}

/** Parses the label text; returns a one-line reason instead of throwing, for callers to frame. */
export function parseSealLabel(text: string): { label?: SealLabel; error?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: `label ${SEAL_LABEL} is not JSON` };
  }
  const parsed = SealLabel.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      error: `label ${SEAL_LABEL}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    };
  }
  return { label: parsed.data };
}
