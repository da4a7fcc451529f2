export { checkPodSeal, checkImageSeal } from './neighbour-seal.ts';
export type { PodSealOptions } from './neighbour-seal.ts';
export { sealedProfile, sealStamp, uncheckedSeal } from './seal-check.ts';
export type { SealCheck } from './seal-check.ts';
export { sealSource } from './seal-source.ts';
export { checkTargetSeal } from './target-seal.ts';
