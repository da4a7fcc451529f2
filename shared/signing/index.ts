export { generateKeyPairFiles, keyHint } from './keys.ts';
export type { KeyAlgorithm, KeyPairFiles } from './keys.ts';
export {
  loadSigningKey,
  parseSigningKey,
  resolveSigningKey,
  parsePublicKey,
  trustedKeySet,
  loadTrustedKeys,
} from './key-files.ts';
export type { SigningKey, TrustedKeys } from './key-files.ts';
export { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding, signBytes, signDsseBundle } from './dsse.ts';
export { verifyDsseBundle } from './verify-bundle.ts';
export type { VerifiedEnvelope } from './verify-bundle.ts';
export type { SerializedBundle } from '@sigstore/bundle';
