import { createHash, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { DockerClient } from '../docker/index.ts';
import { ConfigError, VerificationError } from '../errors/index.ts';
import {
  computeImageIdentity,
  describeIdentityChange,
  identityMaterial,
  sealLayerTar,
  type IdentityMaterial,
} from '../image/index.ts';
import type { TrustedKeys } from '../signing/index.ts';
import { SEAL_FILE, SEAL_LABEL, parseSealLabel, type SealLabel } from './label.ts';
import { parseSealJsonl } from './parse.ts';
import { verifySeal, type VerifiedSeal } from './verify.ts';

export interface ImageSealVerification {
  seal: VerifiedSeal;
  /** The identity recomputed from the image (equal to seal.identity when this returns). */
  identity: string;
  label?: SealLabel;
  /** The seal layer's diff_id (the image's top layer). */
  sealLayer: string;
}

interface ImageFacts {
  where: string;
  diffIds: readonly string[];
  runtimeConfig: unknown;
  labels: Record<string, string>;
  sealText: string;
}

/**
 * Verifies the seal of an image in the local engine, offline:
 *  - the `dev.sealwatch.seal` label is there and well-formed (UNSEALED, BUNDLE_INVALID);
 *  - the image's top layer is the seal layer the label names (LAYER_MISMATCH: a layer was added
 *    on top, or the label was copied from another image);
 *  - the top layer holds the seal and nothing else: the deterministic tar rebuilt from
 *    /.sealwatch/seal.jsonl hashes to the top diff_id (LAYER_MISMATCH);
 *  - the statements verify (verifySeal: signatures, trusted key, manifest);
 *  - their subject equals the identity recomputed from the layers below the seal and the runtime
 *    config (SUBJECT_MISMATCH, naming what changed: User, Entrypoint, layers…).
 * Reads one small file through a created container; never `docker save`s the image.
 */
export async function verifyImageSeal(
  docker: DockerClient,
  ref: string,
  trustedKeys: readonly (KeyObject | string)[] | TrustedKeys,
): Promise<ImageSealVerification> {
  const inspect = await docker.inspectImage(ref);
  const labels = inspect.Config?.Labels ?? {};
  const diffIds = inspect.RootFS?.Layers ?? [];
  const where = `image ${ref}`;
  checkSealLabel(where, labels, diffIds);
  const file = await docker.readImageFile(ref, `/${SEAL_FILE}`);
  if (file === undefined) {
    throw new VerificationError('LAYER_MISMATCH', `${where}: /${SEAL_FILE} is missing`);
  }
  return verifyFacts(
    { where, diffIds, runtimeConfig: inspect.Config ?? {}, labels, sealText: file.toString('utf8') },
    trustedKeys,
    { requireSealLayer: true },
  );
}

/**
 * The same checks as verifyImageSeal for an image known by its config blob (a registry): label, top layer
 * named by the label, then the seal text (read only when the label allows it, e.g. from the top layer blob)
 * must be exactly that layer, verify, and be about this image.
 */
export async function verifySealedConfig(
  where: string,
  configText: string,
  readSealText: () => Promise<string | undefined>,
  trustedKeys: readonly (KeyObject | string)[] | TrustedKeys,
): Promise<ImageSealVerification> {
  let raw: unknown;
  try {
    raw = JSON.parse(configText);
  } catch {
    throw new VerificationError('BUNDLE_INVALID', `${where}: the image config is not JSON`);
  }
  const blob = ConfigBlobJson.safeParse(raw);
  if (!blob.success)
    throw new VerificationError('BUNDLE_INVALID', `${where}: not an image config (no rootfs.diff_ids)`);
  const labels = blob.data.config?.Labels ?? {};
  const diffIds = blob.data.rootfs.diff_ids;
  checkSealLabel(where, labels, diffIds);
  const sealText = await readSealText();
  if (sealText === undefined) {
    throw new VerificationError('LAYER_MISMATCH', `${where}: /${SEAL_FILE} is missing from the top layer`);
  }
  return verifyFacts({ where, diffIds, runtimeConfig: blob.data.config ?? {}, labels, sealText }, trustedKeys, {
    requireSealLayer: true,
  });
}

/** The label is there, well-formed, and names the top layer (else: unsealed, or tampered after sealing). */
function checkSealLabel(where: string, labels: Record<string, string>, diffIds: readonly string[]): void {
  const labelText = labels[SEAL_LABEL];
  if (labelText === undefined) {
    throw new VerificationError('UNSEALED', `${where}: not sealed (no ${SEAL_LABEL} label)`);
  }
  const { label, error } = parseSealLabel(labelText);
  if (!label) throw new VerificationError('BUNDLE_INVALID', `${where}: ${error ?? 'bad seal label'}`);
  const top = diffIds.at(-1);
  if (top !== label.layer) {
    throw new VerificationError(
      'LAYER_MISMATCH',
      diffIds.includes(label.layer)
        ? `${where}: ${diffIds.length - 1 - diffIds.indexOf(label.layer)} layer(s) were added on top of the seal layer after sealing`
        : `${where}: the seal layer ${label.layer.slice(0, 19)}… named by the label is not in this image (label copied from another image)`,
    );
  }
}

/** `docker inspect` output (an array or one object) or an image config blob (`config`, `rootfs.diff_ids`). */
const InspectJson = z.looseObject({
  Config: z.looseObject({ Labels: z.record(z.string(), z.string()).nullish() }).nullish(),
  RootFS: z.looseObject({ Layers: z.array(z.string()).nullish() }),
});
const ConfigBlobJson = z.looseObject({
  config: z.looseObject({ Labels: z.record(z.string(), z.string()).nullish() }).nullish(),
  rootfs: z.looseObject({ diff_ids: z.array(z.string()) }),
});

/**
 * Verifies a seal file (`--bundle`, e.g. from `seal --bundle-out`) against an image config file
 * (`docker inspect IMAGE` output or the image config blob), without an engine. The config may be
 * of the sealed image (its top layer must then be exactly this seal) or of the image before sealing.
 */
export async function verifyBundleAgainstConfig(
  sealText: string,
  sealSource: string,
  configText: string,
  configSource: string,
  trustedKeys: readonly (KeyObject | string)[] | TrustedKeys,
): Promise<ImageSealVerification> {
  let raw: unknown;
  try {
    raw = JSON.parse(configText);
  } catch {
    throw new ConfigError('PARSE', `${configSource}: not JSON (expected docker inspect output or an image config)`);
  }
  const one = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  const inspect = InspectJson.safeParse(one);
  const blob = ConfigBlobJson.safeParse(one);
  let facts: Omit<ImageFacts, 'sealText' | 'where'>;
  if (inspect.success) {
    facts = {
      diffIds: inspect.data.RootFS.Layers ?? [],
      runtimeConfig: inspect.data.Config ?? {},
      labels: inspect.data.Config?.Labels ?? {},
    };
  } else if (blob.success) {
    facts = {
      diffIds: blob.data.rootfs.diff_ids,
      runtimeConfig: blob.data.config ?? {},
      labels: blob.data.config?.Labels ?? {},
    };
  } else {
    throw new ConfigError(
      'INVALID',
      `${configSource}: neither docker inspect output nor an image config (no RootFS.Layers or rootfs.diff_ids)`,
    );
  }
  return verifyFacts({ ...facts, where: sealSource, sealText }, trustedKeys, { requireSealLayer: false });
}

async function verifyFacts(
  facts: ImageFacts,
  trustedKeys: readonly (KeyObject | string)[] | TrustedKeys,
  options: { requireSealLayer: boolean },
): Promise<ImageSealVerification> {
  const sealLayer = `sha256:${createHash('sha256')
    .update(await sealLayerTar(facts.sealText))
    .digest('hex')}`;
  const top = facts.diffIds.at(-1);
  const hasSealLayer = top === sealLayer;
  if (options.requireSealLayer && !hasSealLayer) {
    throw new VerificationError(
      'LAYER_MISMATCH',
      `${facts.where}: the top layer is not exactly the seal (it holds other files, or /${SEAL_FILE} differs from what was sealed)`,
    );
  }
  const seal = verifySeal(parseSealJsonl(facts.sealText, `${facts.where} /${SEAL_FILE}`), { trustedKeys });
  const below = hasSealLayer ? facts.diffIds.slice(0, -1) : facts.diffIds;
  const actual: IdentityMaterial = identityMaterial(below, facts.runtimeConfig);
  const identity = computeImageIdentity(actual);
  if (identity !== seal.identity) {
    throw new VerificationError(
      'SUBJECT_MISMATCH',
      `${facts.where}: the seal does not belong to this image: ${describeIdentityChange(seal.manifest.predicate.image, actual)}`,
    );
  }
  const labelText = facts.labels[SEAL_LABEL];
  const label = labelText ? parseSealLabel(labelText).label : undefined;
  if (label && label.identity !== seal.identity) {
    throw new VerificationError(
      'SUBJECT_MISMATCH',
      `${facts.where}: label ${SEAL_LABEL} names identity ${label.identity.slice(0, 19)}…, the signed statements ${seal.identity.slice(0, 19)}…`,
    );
  }
  return { seal, identity, ...(label ? { label } : {}), sealLayer };
}
