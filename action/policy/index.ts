// The gates live in shared/policy (admission evaluates them too); the seal pipeline reads them from here.
export {
  MaxSeverity,
  PolicySpec,
  evaluateGates,
  suiteMatcher,
  executableMatcher,
  securitySuiteMatcher,
} from '../../shared/policy/index.ts';
export type { GateResult, GateEvidence } from '../../shared/policy/index.ts';
