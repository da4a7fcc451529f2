export { canonicalJson } from './jcs.ts';
export type { CanonicalOptions } from './jcs.ts';
