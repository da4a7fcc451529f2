export { canonicalJson } from './canonical-json.ts';
export {
  Digest,
  RuntimeConfig,
  RuntimeConfigInput,
  IdentityMaterial,
  normalizeRuntimeConfig,
  chainId,
  identityMaterial,
  computeImageIdentity,
  describeIdentityChange,
} from './identity.ts';
export { sealLayerTar, sha256Digest } from './seal-layer.ts';
export { rewriteImageArchive, readImageArchive, SaveManifest, ImageConfigBlob } from './archive.ts';
export type {
  ArchiveContents,
  ArchiveRewrite,
  ArchiveRewriteOptions,
  LayerVisit,
  Stamp,
  StampResult,
} from './archive.ts';
