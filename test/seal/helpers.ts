// Moved to the shared test harness (test/sidecar seals images too); kept here for the seal tests' imports.
export { makeKeyFiles } from '../harness/seal.ts';

/** A dpkg status database with openssh-server (an epoch and a "+" in its version) and libc6. */
export const DPKG = [
  'Package: openssh-server',
  'Status: install ok installed',
  'Architecture: amd64',
  'Version: 1:9.2p1-2+deb12u3',
  '',
  'Package: libc6',
  'Status: install ok installed',
  'Architecture: amd64',
  'Version: 2.36-9+deb12u7',
  '',
].join('\n');
