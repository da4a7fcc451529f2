/**
 * shared/seal: the seal format and its verification. Used by `sealwatch seal` (action/), by
 * `sealwatch verify`, by the runtime watcher (which reads a neighbour's seal from
 * `/proc/<pid>/root/.sealwatch/seal.jsonl`) and by the audit commands.
 *
 *   const seal = readSealFromRootfs(`/proc/${pid}/root`);          // or parseSealJsonl(text, source)
 *   const verified = verifySeal(seal, { trustedKeys: [pem], expectedIdentity });
 *   verified.identity; verified.keyHint; verified.inventory?.predicate.executables; verified.profile?.predicate.profile
 *
 * `verifySeal` throws VerificationError (shared/errors) with a code (BUNDLE_INVALID, UNTRUSTED_KEY,
 * BAD_SIGNATURE, SUBJECT_MISMATCH, STATEMENT_MISSING, STATEMENT_UNEXPECTED, UNSEALED) and a
 * one-line message naming the seal and the line. It checks the signed statements only; that
 * they belong to *this* image is checked by passing `expectedIdentity` (computeImageIdentity from
 * shared/image over the image's layers below the seal layer and its runtime config). For a
 * running container the watcher can use `verified.manifest.predicate.image` (the identity material)
 * to compare with what `docker inspect` reports. See docs/seal.md.
 */
export {
  PREDICATE,
  PREDICATE_SCHEMAS,
  predicateKind,
  ResourceDescriptor,
  ProvenancePredicate,
  TestSuiteSummary,
  TestResultPredicate,
  VulnSeverityLabel,
  VulnResult,
  VulnsPredicate,
  SarifSummaryPredicate,
  InventoryExecutable,
  InventoryPackage,
  InventoryUser,
  InventoryPredicate,
  ProfilePredicate,
  ManifestPredicate,
} from './predicates.ts';
export type { PredicateKind, PredicateType } from './predicates.ts';
export {
  STATEMENT_TYPE,
  Statement,
  Subject,
  sealSubject,
  makeStatement,
  statementBytes,
  sha256Hex,
} from './statement.ts';
export {
  SEAL_LABEL,
  SEAL_DIR,
  SEAL_FILE,
  SEAL_LABEL_MAX_BYTES,
  SEAL_FILE_MAX_BYTES,
  SealLabel,
  formatSealLabel,
  parseSealLabel,
} from './label.ts';
export { parseSealJsonl, formatSealJsonl } from './parse.ts';
export type { ParsedSeal, SealLine, InvalidSealLine } from './parse.ts';
export { verifySeal } from './verify.ts';
export type { VerifySealOptions, VerifiedSeal, VerifiedStatement } from './verify.ts';
export { readSealFromRootfs } from './rootfs.ts';
export { createSeal } from './create.ts';
export type { CreateSealInput, CreatedSeal } from './create.ts';
export { verifyImageSeal, verifyBundleAgainstConfig, verifySealedConfig } from './verify-image.ts';
export type { ImageSealVerification } from './verify-image.ts';
export {
  RUNTIME_TRACE_PREDICATE,
  SEALWATCH_MONITOR_TYPE,
  TRACE_MAX_ENTRIES,
  RuntimeTracePredicate,
  TraceProcess,
  TraceNetwork,
  buildRuntimeTracePredicate,
  runtimeTraceStatement,
  parseRuntimeTraceFile,
  summarizeRuntimeTrace,
} from './runtime-trace.ts';
export type { RuntimeTraceInput, RuntimeTraceSummary } from './runtime-trace.ts';
export { CYCLONEDX_PREDICATE, CycloneDxBomPredicate, inventoryToCycloneDx } from './cyclonedx.ts';
export type { CycloneDxSubject } from './cyclonedx.ts';
export { passedChecks, checksUntilFailure, statementKinds } from './checks.ts';
export type { SealCheckName, SealCheckResult } from './checks.ts';
