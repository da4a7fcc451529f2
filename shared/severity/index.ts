export { SEVERITY_LABELS, SEVERITY_FLOOR, SEVERITY_SCORE, severityLabel, toSeverityScore } from './scale.ts';
export { SeverityLabel, SeverityScore, SeverityInput } from './severity.ts';
