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
