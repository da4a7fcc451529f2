export { createLogVerifier } from './verifier.ts';
export type { LogVerifier, LogVerifyResult, Problem, ProblemKind, RunResult, Place } from './verifier.ts';
export { verifyLogFiles } from './verify-log.ts';
export { recordFromCanonicalLine, recordFromCef, recordFromJson } from './record-line.ts';
export type { RecordLine } from './record-line.ts';
export { renderLogVerification } from './render.ts';
