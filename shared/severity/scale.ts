/**
 * Severity is a number 0–10 (CEF's scale) with a label. The label bands follow CEF's convention
 * (0–3 low, 4–6 medium, 7–8 high, 9–10 critical); 0 alone is "info".
 *
 * The scale as plain values (severity.ts adds the zod schemas): code that only labels and counts,
 * such as `audit report`'s reading threads, imports this file and does not load zod.
 */
export const SEVERITY_LABELS = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type SeverityLabel = (typeof SEVERITY_LABELS)[number];
/** An integer 0–10. */
export type SeverityScore = number;

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

export function toSeverityScore(input: SeverityLabel | number): SeverityScore {
  return typeof input === 'number' ? input : SEVERITY_SCORE[input];
}
