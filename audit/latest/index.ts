export { answerLatest } from './latest.ts';
export type { LatestAnswer, LatestTarget } from './latest.ts';
export { classify, compareBuilds, mergeByImage } from './sealed-build.ts';
export type { SealedBuild, UnsealedImage, ListedImage } from './sealed-build.ts';
export { renderLatest } from './render.ts';
export { listEngineImages, listRegistryImages } from './sources.ts';
export type { EngineLister, EngineImageSummary } from './sources.ts';
