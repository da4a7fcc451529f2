export { openImagePass } from './image-pass.ts';
export type { ImagePass, ImageRead, SealStamp } from './image-pass.ts';
export { sealLabels } from './labels.ts';
