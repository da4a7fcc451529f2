export { MaxSeverity, PolicySpec, evaluateGates, suiteMatcher, executableMatcher } from './gates.ts';
export type { GateResult, GateEvidence } from './gates.ts';
