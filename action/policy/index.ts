export { MaxSeverity, PolicySpec, evaluateGates, suiteMatcher } from './gates.ts';
export type { GateResult, GateEvidence } from './gates.ts';
