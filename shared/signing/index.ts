export { generateKeyPairFiles, keyHint } from './keys.ts';
export type { KeyAlgorithm, KeyPairFiles } from './keys.ts';
