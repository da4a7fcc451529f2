import type { KeyObject } from 'node:crypto';
import { assertBundle, bundleFromJSON, isBundleWithDsseEnvelope, type Bundle } from '@sigstore/bundle';
import { Verifier, toSignedEntity, type TrustMaterial } from '@sigstore/verify';
import { VerificationError } from '../errors/index.ts';
import type { TrustedKeys } from './key-files.ts';

export interface VerifiedEnvelope {
  payload: Buffer;
  payloadType: string;
  /** Key hint of the trusted key that verified the signature. */
  keyHint: string;
}

const FOREVER = { validFor: () => true };

/**
 * Verifies one serialized Sigstore bundle holding a DSSE envelope, offline, against trusted keys.
 * Uses @sigstore/verify's Verifier with every threshold at 0 (key-only bundles carry no log entry
 * or timestamp); never the high-level sigstore.verify(), which fetches a TUF root.
 * Throws VerificationError: BUNDLE_INVALID (shape), UNTRUSTED_KEY, BAD_SIGNATURE. `where` prefixes messages.
 */
export function verifyDsseBundle(json: unknown, trusted: TrustedKeys, where: string): VerifiedEnvelope {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
    assertBundle(bundle);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new VerificationError('BUNDLE_INVALID', `${where}: not a valid Sigstore bundle (${why})`, { cause: error });
  }
  if (!isBundleWithDsseEnvelope(bundle)) {
    throw new VerificationError('BUNDLE_INVALID', `${where}: the bundle holds no DSSE envelope`);
  }
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey') {
    throw new VerificationError(
      'BUNDLE_INVALID',
      `${where}: signed with a ${material.$case}; only key-signed bundles are supported offline`,
    );
  }
  const hint = material.publicKey.hint;
  const key = trusted.byHint.get(hint);
  if (key === undefined) {
    const known = [...trusted.byHint.keys()].join(', ') || 'none';
    throw new VerificationError(
      'UNTRUSTED_KEY',
      `${where}: signed by key ${hint || '(no hint)'}, which is not a trusted key (--pub: ${known})`,
    );
  }
  const trust: TrustMaterial = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (h: string) => {
      const k: KeyObject | undefined = trusted.byHint.get(h);
      if (k === undefined) throw new VerificationError('UNTRUSTED_KEY', `${where}: key ${h} is not trusted`);
      return { publicKey: k, ...FOREVER };
    },
  };
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  try {
    verifier.verify(toSignedEntity(bundle));
  } catch (error) {
    throw new VerificationError(
      'BAD_SIGNATURE',
      `${where}: DSSE signature does not verify with key ${hint} (the statement or signature was changed)`,
      { cause: error },
    );
  }
  const envelope = bundle.content.dsseEnvelope;
  return { payload: envelope.payload, payloadType: envelope.payloadType, keyHint: hint };
}
