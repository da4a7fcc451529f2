import { join } from 'node:path';
import type { DockerClient } from '../../shared/docker/index.ts';
import { readSealFromRootfs, verifyImageSeal, verifySeal, type VerifiedSeal } from '../../shared/seal/index.ts';
import type { TrustedKeys } from '../../shared/signing/index.ts';
import { rootKey } from './root-key.ts';
import type { SealCheck } from './seal-check.ts';

/**
 * The seal at runtime: find the neighbour's seal, verify it with the trusted keys, and only then
 * hand out its profile and inventory. An unverified profile is never used.
 *  - pod (shared PID namespace): `/proc/<pid>/root/.sealwatch/seal.jsonl` of the watched processes,
 *    each distinct root tried until one has a seal (the app's PID 1, or in Kubernetes the app
 *    container's processes beside the pause container). Statements are checked, not the image
 *    identity: inside a pod there is no engine to ask what the image is.
 *  - container (`--container`, or a pod given the Docker socket): `verifyImageSeal` of the container's
 *    image (label, top seal layer, statements, identity recomputed from the image).
 */
function fromVerified(seal: VerifiedSeal, source: string, root?: string): SealCheck {
  return {
    status: 'verified',
    detail: `${source}: signed by key ${seal.keyHint}`,
    identity: seal.identity,
    keyHint: seal.keyHint,
    source,
    profile: seal.profile?.predicate.profile,
    inventory: seal.inventory
      ? new Map(seal.inventory.predicate.executables.map((e) => [e.path, e.sha256] as const))
      : undefined,
    ...(seal.inventory ? { executables: seal.inventory.predicate.executables } : {}),
    ...(root !== undefined ? { root } : {}),
  };
}

function fromError(error: unknown, source: string | undefined): SealCheck {
  const code = (error as { code?: string }).code;
  const detail = error instanceof Error ? error.message : String(error);
  return { status: code === 'UNSEALED' ? 'unsealed' : 'invalid', detail, ...(source !== undefined ? { source } : {}) };
}

export interface PodSealOptions {
  procRoot: string;
  /** PIDs to try, in order (the watched processes, lowest first) */
  pids: readonly number[];
  /** the watcher's own PID: its root (the sidecar image, which may be sealed too) is skipped */
  selfPid: number;
  trusted: TrustedKeys;
}

export function checkPodSeal(options: PodSealOptions): SealCheck {
  const own = rootKey(join(options.procRoot, String(options.selfPid), 'root'));
  const tried = new Set<string>();
  let firstInvalid: SealCheck | undefined;
  for (const pid of options.pids) {
    const root = join(options.procRoot, String(pid), 'root');
    const key = rootKey(root);
    if (key === undefined || key === own || tried.has(key)) continue;
    tried.add(key);
    let parsed;
    try {
      parsed = readSealFromRootfs(root);
    } catch (error) {
      if ((error as { code?: string }).code === 'UNSEALED') continue;
      firstInvalid ??= fromError(error, root);
      continue;
    }
    try {
      return fromVerified(verifySeal(parsed, { trustedKeys: options.trusted }), parsed.source, root);
    } catch (error) {
      firstInvalid ??= fromError(error, parsed.source);
    }
  }
  if (firstInvalid) return firstInvalid;
  return {
    status: 'unsealed',
    detail:
      tried.size === 0
        ? 'no neighbour process to read a seal from'
        : `no /.sealwatch/seal.jsonl in the root of ${tried.size} neighbour filesystem(s)`,
  };
}

export async function checkImageSeal(docker: DockerClient, image: string, trusted: TrustedKeys): Promise<SealCheck> {
  const source = `image ${image}`;
  try {
    const { seal } = await verifyImageSeal(docker, image, trusted);
    return fromVerified(seal, source);
  } catch (error) {
    return fromError(error, source);
  }
}
