/**
 * The audit side: answers for auditors and the SOC. Imports only shared/; only cli/ imports it.
 * - report: `audit report --events FILE…` (streamed, filtered event reports in md, html, csv, json)
 * - image:  `audit image REF` and `audit diff A B` (verify the seal first, then the story or the diff)
 * - latest: `audit latest REPOSITORY` (sealed builds in the engine or a registry, newest first)
 * - verify-log: `audit verify-log FILE… --pub KEY` (the event record's hash chain and signed checkpoints)
 */
export { runReport, REPORT_FORMATS, resolveWindow, parseMinSeverity, describeAllBadLines } from './report/index.ts';
export type { ReportFormat, ReportRequest, EventFilter, ReportSummary, ReadProgress } from './report/index.ts';
export {
  auditSeal,
  auditImage,
  auditRegistryImage,
  diffStories,
  renderDiff,
  renderStory,
  storyCycloneDx,
  verdictLine,
} from './image/index.ts';
export type { ImageStory, StoryDiff, SealVerdict, ImageReader } from './image/index.ts';
export { answerLatest, renderLatest, listEngineImages, listRegistryImages } from './latest/index.ts';
export type { LatestAnswer, LatestTarget, SealedBuild, EngineLister, EngineImageSummary } from './latest/index.ts';
export { createLogVerifier, verifyLogFiles, renderLogVerification } from './verify-log/index.ts';
export type { LogVerifier, LogVerifyResult, Problem, ProblemKind, RunResult } from './verify-log/index.ts';
