export { checkPodSeal, checkImageSeal } from './neighbour-seal.ts';
export type { SealCheck, PodSealOptions } from './neighbour-seal.ts';
export { sealSource } from './seal-source.ts';
