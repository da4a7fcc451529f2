import type { KeyObject } from 'node:crypto';
import type { DockerClient } from '../../shared/docker/index.ts';
import { VerificationError } from '../../shared/errors/index.ts';
import {
  parseSealJsonl,
  SEAL_FILE,
  verifyImageSeal,
  verifySealedConfig,
  type VerifiedSeal,
} from '../../shared/seal/index.ts';
import {
  readRegistrySealText,
  sealTextOrUndefined,
  type RegistryClient,
  type RegistryImage,
} from '../../shared/registry/index.ts';
import type { TrustedKeys } from '../../shared/signing/index.ts';
import { claimsFromVerified, claimsUnverified } from './claims.ts';
import { imageStory, type ImageStory } from './story.ts';

type Keys = readonly (KeyObject | string)[] | TrustedKeys;

/** What the audit needs of the engine (a subset of shared/docker's DockerClient). */
export type ImageReader = Pick<DockerClient, 'inspectImage' | 'readImageFile'>;

/**
 * The story after a verification attempt: verified claims when it passed; otherwise the verdict
 * (the verifier's one-line reason) and what the seal text claims, decoded without trust.
 */
export function storyAfterVerification(
  ref: string,
  outcome: { verified: VerifiedSeal } | { error: VerificationError; sealText?: string; source: string },
): ImageStory {
  if ('verified' in outcome) return imageStory(ref, { status: 'verified' }, claimsFromVerified(outcome.verified));
  const { error } = outcome;
  const status = error.code === 'UNSEALED' ? 'unsealed' : 'invalid';
  const claims =
    status === 'invalid' && outcome.sealText !== undefined
      ? claimsUnverified(parseSealJsonl(outcome.sealText, outcome.source))
      : undefined;
  return imageStory(ref, { status, code: error.code, reason: error.message }, claims);
}

/**
 * `audit image`: the seal of an image in the local engine is verified exactly as `sealwatch verify`
 * does (shared/seal verifyImageSeal: label, top seal layer, signatures, manifest, identity), and
 * only then is the story told.
 */
export async function auditImage(docker: DockerClient, ref: string, trustedKeys: Keys): Promise<ImageStory> {
  try {
    const { seal } = await verifyImageSeal(docker, ref, trustedKeys);
    return storyAfterVerification(ref, { verified: seal });
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    const file = error.code === 'UNSEALED' ? undefined : await docker.readImageFile(ref, `/${SEAL_FILE}`);
    return storyAfterVerification(ref, {
      error,
      ...(file !== undefined ? { sealText: file.toString('utf8') } : {}),
      source: `image ${ref} /${SEAL_FILE}`,
    });
  }
}

/**
 * `audit image HOST/REPO:TAG` from a registry, verified as `verify --image` does there (shared/registry:
 * manifest, config and label, the seal layer blob), then the story; a seal that fails gives its verdict and
 * what it claims, decoded without trust.
 */
export async function auditRegistryImage(
  client: RegistryClient,
  image: RegistryImage,
  ref: string,
  trustedKeys: Keys,
): Promise<ImageStory> {
  const source = `${ref} /${SEAL_FILE}`;
  let sealText: string | undefined;
  try {
    const result = await verifySealedConfig(
      ref,
      image.configText,
      async () => (sealText = await readRegistrySealText(client, image, ref)),
      trustedKeys,
    );
    return storyAfterVerification(ref, { verified: result.seal });
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    if (error.code !== 'UNSEALED' && sealText === undefined) sealText = await sealTextOrUndefined(client, image, ref);
    return storyAfterVerification(ref, { error, ...(sealText !== undefined ? { sealText } : {}), source });
  }
}
