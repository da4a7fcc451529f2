/**
 * admission/: `sealwatch admission`, the validating and mutating admission webhook (AdmissionReview v1 over
 * HTTPS). Imports only shared/; only cli/ imports it.
 * - validate: a Pod or a workload's pod template is refused (enforce), warned about (audit) or let through
 *   (off) when an image carries no valid seal by a trusted key or fails a gate; seals are read straight from
 *   the registry (shared/registry) and verdicts cached by digest.
 * - inject: opted-in Pods get the sealwatch sidecar, as one JSONPatch, never twice.
 */
export { AdmissionConfig, AdmissionMode, PolicyRule, InjectConfig, LabelSelector } from './config.ts';
export { AdmissionReview, AdmissionRequest, reviewResponse, oneLine } from './review.ts';
export type { AdmissionResponse, AdmissionReviewResponse, JsonPatchOp } from './review.ts';
export { podOf, CHECKED_KINDS } from './workloads.ts';
export type { PodOf } from './workloads.ts';
export { choosePolicy, selectorMatches } from './policy.ts';
export { ImageVerifier } from './image-verifier.ts';
export type { SealVerdict, VerifierOptions } from './image-verifier.ts';
export { PullSecretReader, inClusterApi } from './pull-secrets.ts';
export type { KubernetesApi } from './pull-secrets.ts';
export { validateRequest } from './validate.ts';
export { injectionPatch, mutateRequest, sidecarContainer, SIDECAR_NAME, INJECTED_ANNOTATION } from './inject.ts';
export { createAdmissionApp, listenHttps } from './server.ts';
export { createAdmissionMetrics } from './metrics.ts';
export type { AdmissionMetrics, Decision, Webhook } from './metrics.ts';
export { runAdmission } from './run-admission.ts';
export type { AdmissionOptions, RunningAdmission } from './run-admission.ts';
