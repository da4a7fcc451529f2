import picomatch from 'picomatch';
import { createEvent, type Event } from '../shared/events/index.ts';
import { evaluateGates } from '../shared/policy/index.ts';
import type { RegistryAuthMap } from '../shared/registry/index.ts';
import type { AdmissionConfig } from './config.ts';
import type { ImageVerifier, SealVerdict } from './image-verifier.ts';
import { choosePolicy } from './policy.ts';
import type { PullSecretReader } from './pull-secrets.ts';
import { oneLine, type AdmissionRequest, type AdmissionResponse } from './review.ts';
import { podOf, type PodOf } from './workloads.ts';

export interface ValidateDeps {
  config: AdmissionConfig;
  verifier: ImageVerifier;
  pullSecrets?: PullSecretReader;
  /** Audit-mode admissions and refusals, as sealwatch events (dispatched to the outputs). */
  emit: (event: Event) => void;
  now?: () => Date;
}

interface ImageOutcome {
  image: string;
  ok: boolean;
  /** One line a person can act on. */
  reason: string;
  verdict: SealVerdict;
}

const HINT: Record<string, string> = {
  UNSEALED: 'seal it in CI (sealwatch seal) and deploy the sealed tag or digest',
  LAYER_MISMATCH: 'deploy the image exactly as sealed, or seal the new build',
  SUBJECT_MISMATCH: 'the seal belongs to another image: seal this build',
  UNTRUSTED_KEY: "sealed with a key this cluster does not trust: check the webhook's --pub keys",
  BAD_SIGNATURE: 'the seal was altered: rebuild and seal again',
};

/** Why an image fails, as one line; gates are evaluated on a verified seal. */
function outcomeOf(image: string, verdict: SealVerdict, gates: ReturnType<typeof choosePolicy>['gates']): ImageOutcome {
  if (!verdict.ok) {
    const hint = HINT[verdict.code];
    return {
      image,
      ok: false,
      reason: `${verdict.reason}${hint !== undefined ? ` (${hint})` : ''}`,
      verdict,
    };
  }
  if (gates !== undefined) {
    const seal = verdict.seal;
    const failed = evaluateGates(gates, {
      testResults: seal.testResults.map((t) => t.predicate),
      vulns: seal.vulns.map((v) => v.predicate),
      inventory: seal.inventory?.predicate,
    }).find((g) => !g.ok);
    if (failed) {
      return {
        image,
        ok: false,
        reason: `image ${image}: sealed, but policy gate --${failed.gate} ${failed.rule} failed: ${failed.reason}`,
        verdict,
      };
    }
  }
  return { image, ok: true, reason: `image ${image}: seal verified (${verdict.digest.slice(0, 19)}…)`, verdict };
}

/** The validating webhook's decision for one AdmissionReview request. */
export async function validateRequest(request: AdmissionRequest, deps: ValidateDeps): Promise<AdmissionResponse> {
  const allow: AdmissionResponse = { uid: request.uid, allowed: true };
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allow;
  const pod = podOf(request.kind.kind, request.object);
  if (pod === undefined) return allow;
  if ('error' in pod) {
    return { uid: request.uid, allowed: false, status: { code: 400, message: `sealwatch: ${pod.error}` } };
  }
  const namespace = request.namespace ?? 'default';
  const policy = choosePolicy(deps.config, namespace, pod.labels);
  if (policy.mode === 'off') return allow;

  const budget = AbortSignal.timeout(deps.config.budgetSeconds * 1000);
  const images = pod.images.filter((i) => !deps.config.exemptImages.some((g) => picomatch.isMatch(i, g)));
  const secretNames = (pod.spec.imagePullSecrets ?? []).flatMap((s) => (s.name ? [s.name] : []));
  let pullAuth: RegistryAuthMap[] = [];
  if (deps.pullSecrets && secretNames.length > 0)
    pullAuth = (await deps.pullSecrets.read(namespace, secretNames, budget)).auths;
  const outcomes = await Promise.all(
    images.map(async (image) => outcomeOf(image, await deps.verifier.verify(image, pullAuth, budget), policy.gates)),
  );
  const bad = outcomes.filter((o) => !o.ok);
  if (bad.length === 0) return allow;

  const unreadableOnly = bad.every((o) => !o.verdict.ok && o.verdict.status === 'unreadable');
  const refuse = policy.mode === 'enforce' && !(unreadableOnly && deps.config.onRegistryError === 'allow');
  const where = `${pod.resource} in ${namespace}`;
  const first = bad[0]!;
  const more = bad.length > 1 ? ` (+${bad.length - 1} more image(s) refused)` : '';
  for (const o of bad) deps.emit(admissionEvent(o, pod, namespace, policy, refuse, deps.now));
  const annotations = Object.fromEntries(
    bad.slice(0, 10).map((o, i) => [`sealwatch.dev/image-${i}`, oneLine(o.reason, 500)]),
  );
  if (refuse) {
    return {
      uid: request.uid,
      allowed: false,
      status: {
        code: 403,
        reason: 'Forbidden',
        message: oneLine(`sealwatch refused ${where} (${policy.rule}: enforce): ${first.reason}${more}`),
      },
      auditAnnotations: annotations,
    };
  }
  return {
    uid: request.uid,
    allowed: true,
    warnings: bad.slice(0, 10).map((o) => oneLine(`sealwatch ${policy.rule} (${policy.mode}): ${o.reason}`, 500)),
    auditAnnotations: annotations,
  };
}

function admissionEvent(
  outcome: ImageOutcome,
  pod: PodOf,
  namespace: string,
  policy: ReturnType<typeof choosePolicy>,
  refused: boolean,
  now?: () => Date,
): Event {
  const verdict = outcome.verdict;
  const status = verdict.ok ? 'verified' : verdict.status === 'unreadable' ? 'unknown' : verdict.status;
  return createEvent(
    {
      event: {
        kind: 'alert',
        category: ['configuration', 'intrusion_detection'],
        type: [refused ? 'denied' : 'allowed'],
        action: refused ? 'admission-refused' : 'admission-allowed-unverified',
        severity: refused ? 6 : 5,
        outcome: refused ? 'failure' : 'success',
        dataset: 'sealwatch.admission',
      },
      rule: {
        id: verdict.ok ? 'admission.policy-gate' : `admission.${verdict.status}`,
        name: verdict.ok ? 'Sealed image fails a policy gate' : `Image ${verdict.status} at admission`,
        category: 'admission',
        ruleset: 'builtin',
      },
      message: oneLine(
        `${refused ? 'refused' : 'admitted with a warning'} ${pod.resource} in ${namespace}: ${outcome.reason}`,
      ),
      container: {
        image: { name: outcome.image, ...(verdict.digest !== undefined ? { digest: verdict.digest } : {}) },
      },
      orchestrator: {
        namespace,
        resource: { name: pod.resource.slice(pod.kind.length + 1), type: pod.kind.toLowerCase() },
        type: 'kubernetes',
      },
      sealwatch: {
        mode: refused ? 'enforce' : 'audit',
        outcome: refused ? 'rejected' : 'alerted',
        seal: { status, ...(verdict.ok ? { identity: verdict.seal.identity, key_hint: verdict.seal.keyHint } : {}) },
        details: { policy: policy.rule, code: verdict.ok ? 'GATE_FAILED' : verdict.code },
      },
    },
    now,
  );
}
