import { z } from 'zod';
import { SEVERITY_LABELS } from './scale.ts';

/** The severity scale's schemas (scale.ts: the plain values). */
export const SeverityLabel = z.enum(SEVERITY_LABELS);
export type SeverityLabel = z.infer<typeof SeverityLabel>;

export const SeverityScore = z.number().int().min(0).max(10);
export type SeverityScore = z.infer<typeof SeverityScore>;

/** Accepts a label ("high") or a number ("7") as users write it in flags, URLs and YAML. */
export const SeverityInput = z.union([
  SeverityLabel,
  SeverityScore,
  z
    .string()
    .regex(/^(10|[0-9])$/)
    .transform(Number),
]);
