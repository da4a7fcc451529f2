/** The policy gates over a verified seal (tests, vulnerabilities, executables): `seal`, `verify --policy`, admission. */
export {
  MaxSeverity,
  PolicySpec,
  suiteMatcher,
  executableMatcher,
  evaluateGates,
  isSecuritySuite,
  securitySuiteMatcher,
} from './gates.ts';
export type { GateResult, GateEvidence } from './gates.ts';
