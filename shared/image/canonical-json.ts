/** The image identity's canonical JSON is the one RFC 8785 canonicalizer in shared/canonical. */
export { canonicalJson } from '../canonical/index.ts';
