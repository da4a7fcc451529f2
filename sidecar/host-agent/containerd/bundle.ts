import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * A container of containerd read from its OCI bundle, the runtime's own record of a running task:
 * `<state>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json` (the OCI runtime spec, with the
 * annotations the kubelet's CRI wrote) and `init.pid` (the container's first process, on the host).
 *
 * Everything here is influenced by whoever wrote the pod spec (annotations, names, the image reference): files
 * are opened O_NOFOLLOW|O_NONBLOCK and read only when regular and under a size cap (the bundle also holds a
 * FIFO, `log`), the JSON is parsed with zod keeping only the fields we use, and a value that is too long or of
 * the wrong type is dropped and counted, never trusted.
 */
export const TASK_DIR = 'io.containerd.runtime.v2.task';

/** containerd's identifier rule (namespaces and container ids): alphanumerics, `.`, `_`, `-`; at most 76. */
export const IDENTIFIER = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,74}[A-Za-z0-9])?$/;

export const LIMITS = {
  /** config.json: a spec with a large environment is tens of KiB; Kubernetes caps annotations at 256 KiB */
  configBytes: 4 * 1024 * 1024,
  pidBytes: 32,
  /** a name (pod, namespace, container) is at most 253 characters in Kubernetes */
  nameChars: 253,
  /** an image reference: registry, repository, tag and digest */
  imageChars: 1024,
} as const;

/**
 * What the kubelet's CRI writes, by runtime: containerd's CRI plugin annotates the spec with
 * `io.kubernetes.cri.*`; CRI-O (and `ctr run --label`, which copies labels into annotations) carries the
 * kubelet's labels `io.kubernetes.pod.name`, `io.kubernetes.pod.namespace`, `io.kubernetes.container.name`.
 * The first key present wins.
 */
const KEYS = {
  podName: ['io.kubernetes.cri.sandbox-name', 'io.kubernetes.pod.name'],
  podNamespace: ['io.kubernetes.cri.sandbox-namespace', 'io.kubernetes.pod.namespace'],
  podUid: ['io.kubernetes.cri.sandbox-uid', 'io.kubernetes.pod.uid'],
  containerName: ['io.kubernetes.cri.container-name', 'io.kubernetes.container.name'],
  image: ['io.kubernetes.cri.image-name', 'io.kubernetes.cri-o.ImageName'],
  type: ['io.kubernetes.cri.container-type', 'io.kubernetes.cri-o.ContainerType'],
  sandboxId: ['io.kubernetes.cri.sandbox-id', 'io.kubernetes.cri-o.SandboxID'],
} as const;

/** The part of the OCI runtime spec we read; anything else in it is ignored. */
export const OciSpec = z.looseObject({
  annotations: z.record(z.string(), z.unknown()).optional(),
  linux: z.looseObject({ cgroupsPath: z.string().max(4096).optional() }).optional(),
});

export interface BundleContainer {
  /** the containerd namespace (`k8s.io` for the kubelet's containers) */
  namespace: string;
  id: string;
  bundle: string;
  /** the container's init process on the host (`init.pid`) */
  pid: number;
  /** `sandbox` is a pod's pause container; `unknown` when no CRI annotation says */
  kind: 'container' | 'sandbox' | 'unknown';
  containerName?: string;
  pod?: { name?: string; namespace?: string; uid?: string };
  image?: string;
  sandboxId?: string;
  cgroupsPath?: string;
  /** annotation values dropped: not a string, or over the length cap */
  dropped: string[];
}

export type BundleRead =
  | { ok: true; container: BundleContainer }
  /** `pending`: the task is being created (no init.pid yet); `invalid`: the bundle cannot be used (why) */
  | { ok: false; reason: 'pending' | 'gone' | 'invalid'; detail: string };

/** Reads a regular file of at most `max` bytes without following a link or blocking on a FIFO. */
export function readSmallFile(path: string, max: number): { ok: true; text: string } | { ok: false; detail: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    return { ok: false, detail: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, detail: 'not a regular file' };
    if (st.size > max) return { ok: false, detail: `${st.size} bytes, over the ${max}-byte limit` };
    const buffer = Buffer.allocUnsafe(Math.min(max, st.size) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > max) return { ok: false, detail: `over the ${max}-byte limit` };
    }
    return { ok: true, text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return { ok: false, detail: (error as NodeJS.ErrnoException).code ?? String(error) };
  } finally {
    closeSync(fd);
  }
}

function pick(
  annotations: Record<string, unknown>,
  keys: readonly string[],
  max: number,
  dropped: string[],
): string | undefined {
  for (const key of keys) {
    if (!Object.hasOwn(annotations, key)) continue;
    const value = annotations[key];
    if (typeof value !== 'string' || value.length > max || value === '') {
      if (value !== '') dropped.push(key);
      continue;
    }
    return value;
  }
  return undefined;
}

/** Reads the bundle of one task: `<state>/io.containerd.runtime.v2.task/<namespace>/<id>/`. */
export function readBundle(state: string, namespace: string, id: string): BundleRead {
  if (!IDENTIFIER.test(namespace) || !IDENTIFIER.test(id)) {
    return { ok: false, reason: 'invalid', detail: 'namespace or id is not a containerd identifier' };
  }
  const bundle = join(state, TASK_DIR, namespace, id);
  const pidFile = readSmallFile(join(bundle, 'init.pid'), LIMITS.pidBytes);
  if (!pidFile.ok) {
    return pidFile.detail === 'ENOENT'
      ? { ok: false, reason: 'pending', detail: 'no init.pid yet' }
      : { ok: false, reason: 'invalid', detail: `init.pid: ${pidFile.detail}` };
  }
  const pidText = pidFile.text.trim();
  if (!/^[1-9]\d{0,9}$/.test(pidText)) return { ok: false, reason: 'invalid', detail: 'init.pid: not a process id' };
  const config = readSmallFile(join(bundle, 'config.json'), LIMITS.configBytes);
  if (!config.ok) {
    return config.detail === 'ENOENT'
      ? { ok: false, reason: 'gone', detail: 'config.json removed' }
      : { ok: false, reason: 'invalid', detail: `config.json: ${config.detail}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(config.text);
  } catch {
    return { ok: false, reason: 'invalid', detail: 'config.json: not JSON' };
  }
  const spec = OciSpec.safeParse(raw);
  if (!spec.success) return { ok: false, reason: 'invalid', detail: 'config.json: not an OCI runtime spec' };
  const annotations = spec.data.annotations ?? {};
  const dropped: string[] = [];
  const name = (keys: readonly string[]) => pick(annotations, keys, LIMITS.nameChars, dropped);
  const type = name(KEYS.type);
  const podName = name(KEYS.podName);
  const podNamespace = name(KEYS.podNamespace);
  const podUid = name(KEYS.podUid);
  const container: BundleContainer = {
    namespace,
    id,
    bundle,
    pid: Number(pidText),
    kind: type === 'sandbox' ? 'sandbox' : type === 'container' ? 'container' : 'unknown',
    dropped,
  };
  const containerName = name(KEYS.containerName);
  if (containerName !== undefined) container.containerName = containerName;
  if (podName !== undefined || podNamespace !== undefined || podUid !== undefined) {
    container.pod = {
      ...(podName !== undefined ? { name: podName } : {}),
      ...(podNamespace !== undefined ? { namespace: podNamespace } : {}),
      ...(podUid !== undefined ? { uid: podUid } : {}),
    };
  }
  const image = pick(annotations, KEYS.image, LIMITS.imageChars, dropped);
  if (image !== undefined) container.image = image;
  const sandboxId = name(KEYS.sandboxId);
  if (sandboxId !== undefined) container.sandboxId = sandboxId;
  if (spec.data.linux?.cgroupsPath !== undefined) container.cgroupsPath = spec.data.linux.cgroupsPath;
  return { ok: true, container };
}
