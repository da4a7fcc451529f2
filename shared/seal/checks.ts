import type { VerificationError } from '../errors/index.ts';
import type { ImageSealVerification } from './verify-image.ts';
import type { VerifiedSeal } from './verify.ts';

/**
 * The checks `verify` performs, in order, each with its result: what a user (or an auditor) reads to know what
 * "verified" covered, as cosign lists its checks. An image (engine or registry) goes through all five; a seal
 * file with an image config (`--bundle`) has no seal layer to compare, and a label only when the config has one.
 */
export type SealCheckName = 'label' | 'seal layer' | 'signatures' | 'manifest' | 'identity';

export interface SealCheckResult {
  check: SealCheckName;
  ok: boolean;
  detail: string;
}

const ORDER: readonly SealCheckName[] = ['label', 'seal layer', 'signatures', 'manifest', 'identity'];

/** Which check a verification error belongs to. */
function failedCheck(error: VerificationError): SealCheckName {
  switch (error.code) {
    case 'UNSEALED':
      return 'label';
    case 'LAYER_MISMATCH':
      return 'seal layer';
    case 'STATEMENT_MISSING':
    case 'STATEMENT_UNEXPECTED':
      return 'manifest';
    case 'SUBJECT_MISMATCH':
      return 'identity';
    case 'BUNDLE_INVALID':
      return /: label /.test(error.message) ? 'label' : 'signatures';
    default:
      return 'signatures';
  }
}

const short = (digest: string): string => `${digest.slice(0, 19)}…`;

/** Every statement kind of a verified seal with its count, manifest included (`provenance, test-result ×2, …`). */
export function statementKinds(seal: VerifiedSeal): { kind: string; count: number }[] {
  const kinds: [string, number][] = [
    ['provenance', seal.provenance ? 1 : 0],
    ['test-result', seal.testResults.length],
    ['vulns', seal.vulns.length],
    ['sarif-summary', seal.sarif.length],
    ['inventory', seal.inventory ? 1 : 0],
    ['profile', seal.profile ? 1 : 0],
    ['runtime-trace', seal.runtimeTraces.length],
    ['sbom', seal.sbom ? 1 : 0],
    ['other', seal.other.length],
    ['manifest', 1],
  ];
  return kinds.filter(([, n]) => n > 0).map(([kind, count]) => ({ kind, count }));
}

/** The checks of a verification that passed. */
export function passedChecks(result: ImageSealVerification, mode: 'image' | 'bundle'): SealCheckResult[] {
  const seal = result.seal;
  const total = statementKinds(seal).reduce((n, k) => n + k.count, 0);
  const checks: SealCheckResult[] = [];
  if (mode === 'image' || result.label) {
    checks.push({
      check: 'label',
      ok: true,
      detail: `dev.sealwatch.seal names the seal layer ${short(result.label?.layer ?? result.sealLayer)} and this identity`,
    });
  }
  if (mode === 'image') {
    checks.push({
      check: 'seal layer',
      ok: true,
      detail: `the top layer is exactly the seal (rebuilt from /.sealwatch/seal.jsonl: ${short(result.sealLayer)})`,
    });
  }
  checks.push(
    { check: 'signatures', ok: true, detail: `${total} statement(s), each signed by trusted key ${seal.keyHint}` },
    { check: 'manifest', ok: true, detail: `lists all ${total - 1} other statement(s), none missing, none extra` },
    {
      check: 'identity',
      ok: true,
      detail: `the layers below the seal and the runtime config are the signed subject ${short(result.identity)}`,
    },
  );
  return checks;
}

/** The checks of a verification that failed: those before the failure passed, then the one that failed. */
export function checksUntilFailure(error: VerificationError, mode: 'image' | 'bundle'): SealCheckResult[] {
  const failed = failedCheck(error);
  const applicable = ORDER.filter((c) => mode === 'image' || (c !== 'seal layer' && c !== 'label') || c === failed);
  const checks: SealCheckResult[] = [];
  for (const check of applicable) {
    if (check === failed) {
      checks.push({ check, ok: false, detail: error.message });
      break;
    }
    checks.push({ check, ok: true, detail: 'passed' });
  }
  return checks;
}
