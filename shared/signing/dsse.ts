import { sign } from 'node:crypto';
import { bundleToJSON, toDSSEBundle, type SerializedBundle } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import type { SigningKey } from './key-files.ts';

/** The payload type of every statement we sign. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** DSSE pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  return dsse.preAuthEncoding(payloadType, payload);
}

/** Signs bytes with the key: ECDSA P-256 with SHA-256 (DER signature), or Ed25519 (pure). */
export function signBytes(key: SigningKey, data: Buffer): Buffer {
  return sign(key.algorithm === 'ed25519' ? null : 'sha256', data, key.privateKey);
}

/**
 * One DSSE envelope over `payload`, inside a Sigstore bundle v0.3 whose verification material is
 * the public key hint (no certificate, no log entry, no timestamp: verified offline with a key).
 */
export function signDsseBundle(
  payload: Buffer,
  key: SigningKey,
  payloadType: string = IN_TOTO_PAYLOAD_TYPE,
): SerializedBundle {
  const signature = signBytes(key, preAuthEncoding(payloadType, payload));
  const bundle = toDSSEBundle({ artifact: payload, artifactType: payloadType, signature, keyHint: key.keyHint });
  return bundleToJSON(bundle);
}
