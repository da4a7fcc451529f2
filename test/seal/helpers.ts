// Moved to the shared test harness (test/sidecar seals images too); kept here for the seal tests' imports.
export { makeKeyFiles } from '../harness/seal.ts';
