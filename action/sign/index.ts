// The pipeline's sign stage: every statement and the manifest in DSSE envelopes inside Sigstore bundles,
// signed with the key file's key. The seal format lives in shared/seal (verify, watch and audit read it too).
export { createSeal as signSeal } from '../../shared/seal/index.ts';
