import { z } from 'zod';

/**
 * Severity is a number 0–10 (CEF's scale) with a label. The label bands follow CEF's convention
 * (0–3 low, 4–6 medium, 7–8 high, 9–10 critical); 0 alone is "info".
 */
export const SEVERITY_LABELS = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const SeverityLabel = z.enum(SEVERITY_LABELS);
export type SeverityLabel = z.infer<typeof SeverityLabel>;

export const SeverityScore = z.number().int().min(0).max(10);
export type SeverityScore = z.infer<typeof SeverityScore>;

/** The lowest score of each label's band, used for `min-severity=` thresholds. */
export const SEVERITY_FLOOR: Record<SeverityLabel, SeverityScore> = {
  info: 0,
  low: 1,
  medium: 4,
  high: 7,
  critical: 9,
};
/** The score a rule gets when it is declared with a label. */
export const SEVERITY_SCORE: Record<SeverityLabel, SeverityScore> = {
  info: 0,
  low: 3,
  medium: 5,
  high: 8,
  critical: 10,
};

export function severityLabel(score: number): SeverityLabel {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score >= 1) return 'low';
  return 'info';
}

/** Accepts a label ("high") or a number ("7") as users write it in flags, URLs and YAML. */
export const SeverityInput = z.union([
  SeverityLabel,
  SeverityScore,
  z
    .string()
    .regex(/^(10|[0-9])$/)
    .transform(Number),
]);
export function toSeverityScore(input: SeverityLabel | number): SeverityScore {
  return typeof input === 'number' ? input : SEVERITY_SCORE[input];
}
