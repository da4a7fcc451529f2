import { z } from 'zod';

/**
 * The minimal shape of one serialized Sigstore bundle line; the full check (base64, media type,
 * verification material) is @sigstore/bundle's, done when the line is verified.
 */
const BundleLine = z.looseObject({
  mediaType: z.string(),
  verificationMaterial: z.looseObject({}),
  dsseEnvelope: z.looseObject({ payload: z.string(), payloadType: z.string(), signatures: z.array(z.unknown()) }),
});

export interface SealLine {
  /** 1-based line number in the source. */
  line: number;
  bundle: Record<string, unknown>;
  /** The line's exact text (for digests and re-writing). */
  text: string;
}

export interface InvalidSealLine {
  line: number;
  reason: string;
}

/** A seal file as read: good lines and, separately, the lines that could not be read. */
export interface ParsedSeal {
  /** How to name the seal in messages, e.g. `app:1.4 /.sealwatch/seal.jsonl`. */
  source: string;
  bundles: SealLine[];
  invalid: InvalidSealLine[];
}

/**
 * Tolerant edge parse of `seal.jsonl` (one serialized Sigstore bundle per line; blank lines
 * ignored). A bad line never throws here: it is recorded in `invalid` with its line number, and
 * `verifySeal` turns any invalid line into a VerificationError. Callers that only want to show
 * what a seal claims (audit) can still use the good lines.
 */
export function parseSealJsonl(text: string, source: string): ParsedSeal {
  const bundles: SealLine[] = [];
  const invalid: InvalidSealLine[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      const last = i === lines.length - 1 || lines.slice(i + 1).every((l) => l.trim() === '');
      invalid.push({
        line,
        reason: last && !text.endsWith('\n') ? 'truncated JSON (the file ends mid-line)' : 'not JSON',
      });
      return;
    }
    const parsed = BundleLine.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      invalid.push({
        line,
        reason: `not a DSSE Sigstore bundle (${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'bad shape'})`,
      });
      return;
    }
    bundles.push({ line, bundle: parsed.data, text: trimmed });
  });
  return { source, bundles, invalid };
}

/** Serializes bundles as seal.jsonl text (one per line, trailing newline). */
export function formatSealJsonl(bundles: readonly unknown[]): string {
  return bundles.map((b) => JSON.stringify(b)).join('\n') + '\n';
}
