import { computeImageIdentity, describeIdentityChange, identityMaterial } from '../../shared/image/index.ts';
import { parseSealJsonl, parseSealLabel, SEAL_FILE, SEAL_LABEL } from '../../shared/seal/index.ts';
import type { ImageInspect } from '../../shared/docker/index.ts';
import type { AuditSealInput } from './audit-seal.ts';
import { claimsUnverified } from './claims.ts';

/** What the audit needs of the engine (a subset of shared/docker's DockerClient). */
export interface ImageReader {
  inspectImage(ref: string): Promise<ImageInspect>;
  readImageFile(ref: string, path: string): Promise<Buffer | undefined>;
}

/** Rebuilds the seal layer tar from the seal text and returns its `sha256:` digest (shared/image). */
export type SealLayerDigest = (jsonl: Buffer) => Promise<string>;

/** What is known of an image wherever it lives (engine or registry). */
export interface ImageFacts {
  ref: string;
  labels: Record<string, string>;
  /** Layer diff_ids, bottom to top. */
  diffIds: readonly string[];
  /** The runtime config (`Config` of docker inspect, `config` of a config blob). */
  runtimeConfig: unknown;
  /** Reads `/.sealwatch/seal.jsonl` from the image (its top layer); undefined when absent. */
  readSealFile: () => Promise<Buffer | undefined>;
}

export type SealCheckInput = Omit<AuditSealInput, 'trustedKeys'>;

/**
 * Checks what belongs to the image itself, in the same order as `sealwatch verify`: the label is
 * there and parses; the top layer is the seal layer the label names (nothing was added on top);
 * that layer holds the seal and nothing else; the identity recomputed from the layers below and
 * the runtime config is what the seal must be about. The statements are verified by `auditSeal`.
 */
export async function checkImageSeal(facts: ImageFacts, sealLayerDigest: SealLayerDigest): Promise<SealCheckInput> {
  const { ref } = facts;
  const text = facts.labels[SEAL_LABEL];
  if (text === undefined)
    return { ref, seal: undefined, unsealedReason: `${ref}: no ${SEAL_LABEL} label (the image was not sealed)` };
  const source = `${ref} /${SEAL_FILE}`;
  const jsonl = await facts.readSealFile();
  if (jsonl === undefined) {
    return {
      ref,
      seal: parseSealJsonl('', source),
      imageProblem: {
        code: 'UNSEALED',
        reason: `${ref}: has a ${SEAL_LABEL} label but no /${SEAL_FILE} (the label was copied onto an unsealed image)`,
      },
    };
  }
  const seal = parseSealJsonl(jsonl.toString('utf8'), source);
  const { label, error } = parseSealLabel(text);
  if (!label)
    return { ref, seal, imageProblem: { code: 'BUNDLE_INVALID', reason: `${ref}: ${error ?? 'bad seal label'}` } };
  const top = facts.diffIds[facts.diffIds.length - 1];
  if (top !== label.layer) {
    return {
      ref,
      seal,
      imageProblem: {
        code: 'LAYER_MISMATCH',
        reason: `${ref}: the top layer ${top?.slice(0, 19) ?? '(none)'} is not the seal layer ${label.layer.slice(0, 19)} (a layer was added after sealing, or the label was copied)`,
      },
    };
  }
  if ((await sealLayerDigest(jsonl)) !== top) {
    return {
      ref,
      seal,
      imageProblem: {
        code: 'LAYER_MISMATCH',
        reason: `${ref}: the seal layer holds more than the seal (its digest is not that of the seal file alone)`,
      },
    };
  }
  const material = identityMaterial(facts.diffIds.slice(0, -1), facts.runtimeConfig ?? {});
  const expectedIdentity = computeImageIdentity(material);
  const claimed = claimsUnverified(seal);
  if (claimed.identity !== undefined && claimed.identity !== expectedIdentity && claimed.manifest) {
    return {
      ref,
      seal,
      imageProblem: {
        code: 'SUBJECT_MISMATCH',
        reason: `${ref}: ${describeIdentityChange(claimed.manifest.image, material)}`,
      },
    };
  }
  return { ref, seal, expectedIdentity };
}

export type LoadedImageSeal = SealCheckInput & { imageId: string; created?: string; labels: Record<string, string> };

/** An image in the local engine: inspect it, read its seal file, check it against the image. */
export async function loadImageSeal(
  reader: ImageReader,
  ref: string,
  sealLayerDigest: SealLayerDigest,
): Promise<LoadedImageSeal> {
  const inspect = await reader.inspectImage(ref);
  const labels = inspect.Config?.Labels ?? {};
  const checked = await checkImageSeal(
    {
      ref,
      labels,
      diffIds: inspect.RootFS?.Layers ?? [],
      runtimeConfig: inspect.Config ?? {},
      readSealFile: () => reader.readImageFile(ref, `/${SEAL_FILE}`),
    },
    sealLayerDigest,
  );
  return {
    ...checked,
    imageId: inspect.Id,
    labels,
    ...(inspect.Created !== undefined ? { created: inspect.Created } : {}),
  };
}
