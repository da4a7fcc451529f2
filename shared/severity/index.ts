export {
  SEVERITY_LABELS,
  SEVERITY_FLOOR,
  SEVERITY_SCORE,
  SeverityLabel,
  SeverityScore,
  SeverityInput,
  severityLabel,
  toSeverityScore,
} from './severity.ts';
