import type { InjectConfig } from './config.ts';
import type { AdmissionRequest, AdmissionResponse, JsonPatchOp } from './review.ts';
import { podOf } from './workloads.ts';

/** The injected container's name and the annotation that marks a pod as injected (never twice). */
export const SIDECAR_NAME = 'sealwatch';
export const INJECTED_ANNOTATION = 'sealwatch.dev/injected';

const TRUST_VOLUME = 'sealwatch-trust';
const SPOOL_VOLUME = 'sealwatch-spool';

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
const pointer = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** The sidecar container, as deploy/kubernetes/overlays/sidecar runs it (a test keeps them equal). */
export function sidecarContainer(inject: InjectConfig): Record<string, unknown> {
  const fieldRef = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const probe = (path: string, extra: Record<string, number>) => ({
    exec: { command: ['node', '/opt/sealwatch/deploy/image/healthcheck.mjs', path] },
    ...extra,
  });
  return {
    name: SIDECAR_NAME,
    image: inject.image,
    envFrom: [{ configMapRef: { name: inject.configMap } }],
    env: [
      { name: 'SEALWATCH_LISTEN', value: '127.0.0.1:9464' },
      { name: 'SEALWATCH_PUB', value: '/etc/sealwatch/trust/sealwatch.pub' },
      fieldRef('POD_NAME', 'metadata.name'),
      fieldRef('POD_NAMESPACE', 'metadata.namespace'),
      fieldRef('NODE_NAME', 'spec.nodeName'),
    ],
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: [...inject.capabilities] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    livenessProbe: probe('/healthz', { initialDelaySeconds: 10, periodSeconds: 20, timeoutSeconds: 5 }),
    readinessProbe: probe('/readyz', { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5 }),
    resources: { requests: { ...inject.resources.requests }, limits: { ...inject.resources.limits } },
    volumeMounts: [
      { name: TRUST_VOLUME, mountPath: '/etc/sealwatch/trust', readOnly: true },
      { name: SPOOL_VOLUME, mountPath: '/var/lib/sealwatch' },
    ],
  };
}

function sidecarVolumes(inject: InjectConfig): Record<string, unknown>[] {
  return [
    { name: TRUST_VOLUME, secret: { secretName: inject.trustSecret, defaultMode: 0o444 } },
    { name: SPOOL_VOLUME, emptyDir: { sizeLimit: inject.spoolSizeLimit } },
  ];
}

/** Does the pod ask for the sidecar (label or annotation `<label>: "true"`)? */
export function wantsSidecar(
  inject: InjectConfig,
  labels: Record<string, string>,
  annotations: Record<string, string>,
) {
  return labels[inject.label] === 'true' || annotations[inject.label] === 'true';
}

/**
 * The JSONPatch that adds the sidecar to an opted-in Pod: the container, a shared PID namespace, the trust
 * and spool volumes, and the injected annotation. Empty when the pod did not opt in or is already injected
 * (a container named `sealwatch`, or the annotation): applying the webhook twice changes nothing.
 */
export function injectionPatch(inject: InjectConfig, object: unknown, version: string): JsonPatchOp[] {
  const pod = podOf('Pod', object);
  if (pod === undefined || 'error' in pod) return [];
  const meta = (object as { metadata?: { annotations?: Record<string, string> } }).metadata ?? {};
  const annotations = meta.annotations ?? {};
  if (!wantsSidecar(inject, pod.labels, annotations)) return [];
  if (annotations[INJECTED_ANNOTATION] !== undefined) return [];
  if (pod.spec.containers.some((c) => c.name === SIDECAR_NAME)) return [];
  const ops: JsonPatchOp[] = [{ op: 'add', path: '/spec/containers/-', value: sidecarContainer(inject) }];
  ops.push({ op: 'add', path: '/spec/shareProcessNamespace', value: true });
  const existing = new Set((pod.spec.volumes ?? []).map((v) => v.name));
  const volumes = sidecarVolumes(inject).filter((v) => !existing.has(v.name as string));
  if (pod.spec.volumes === undefined) ops.push({ op: 'add', path: '/spec/volumes', value: volumes });
  else for (const v of volumes) ops.push({ op: 'add', path: '/spec/volumes/-', value: v });
  if (meta.annotations === undefined) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
  ops.push({ op: 'add', path: `/metadata/annotations/${pointer(INJECTED_ANNOTATION)}`, value: version });
  return ops;
}

/** The mutating webhook's answer: always allowed (refusing is the validating webhook's job), maybe a patch. */
export function mutateRequest(
  request: AdmissionRequest,
  inject: InjectConfig,
  version: string,
): { response: AdmissionResponse; patch: JsonPatchOp[] } {
  const patch =
    request.operation === 'CREATE' && request.kind.kind === 'Pod'
      ? injectionPatch(inject, request.object, version)
      : [];
  return { response: { uid: request.uid, allowed: true }, patch };
}
