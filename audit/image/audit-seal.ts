import type { KeyObject } from 'node:crypto';
import { VerificationError } from '../../shared/errors/index.ts';
import { verifySeal, type ParsedSeal } from '../../shared/seal/index.ts';
import type { TrustedKeys } from '../../shared/signing/index.ts';
import { claimsFromVerified, claimsUnverified } from './claims.ts';
import { imageStory, type ImageStory } from './story.ts';

export interface AuditSealInput {
  /** The image reference as the user gave it. */
  ref: string;
  /** The seal read from the image; undefined when the image carries none. */
  seal: ParsedSeal | undefined;
  /** Why there is no seal (e.g. "no dev.sealwatch.seal label"), when `seal` is undefined. */
  unsealedReason?: string;
  trustedKeys: readonly (KeyObject | string)[] | TrustedKeys;
  /** The identity recomputed from the image below its seal layer; the seal must be about it. */
  expectedIdentity?: string;
}

/**
 * For a seal already read (a file, or made in a test); images use auditImage.
 * Verification first: the seal is verified (same rules as `sealwatch verify`) before anything is
 * said. A verified seal gives a verified story; a seal that fails gives the story of what it
 * claims, decoded without trust and marked unverified; no seal gives only the verdict.
 */
export function auditSeal(input: AuditSealInput): ImageStory {
  if (input.seal === undefined) {
    return imageStory(
      input.ref,
      { status: 'unsealed', reason: input.unsealedReason ?? `${input.ref} carries no seal` },
      undefined,
    );
  }
  try {
    const verified = verifySeal(input.seal, {
      trustedKeys: input.trustedKeys,
      ...(input.expectedIdentity !== undefined ? { expectedIdentity: input.expectedIdentity } : {}),
    });
    return imageStory(input.ref, { status: 'verified' }, claimsFromVerified(verified));
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    if (error.code === 'UNSEALED') {
      return imageStory(input.ref, { status: 'unsealed', code: error.code, reason: error.message }, undefined);
    }
    return imageStory(
      input.ref,
      { status: 'invalid', code: error.code, reason: error.message },
      claimsUnverified(input.seal),
    );
  }
}
