/**
 * shared/registry: the one registry reader (used by `audit latest`, `audit image`, `verify --image` and the
 * admission webhook). Every answer is bounded in size and time and validated; credentials stay on the
 * registry's origin. See client.ts.
 *
 *   const ref = parseImageReference('127.0.0.1:5000/app:1.0');
 *   const client = new RegistryClient({ baseUrl: registryApiUrl(ref.registry), credentials });
 *   const { seal, image } = await verifyRegistryImage(client, ref.repository, ref.digest ?? ref.tag!, ref.name, keys);
 */
export { RegistryClient, parseChallenge, MANIFEST_MAX_BYTES } from './client.ts';
export type { RegistryOptions, RegistryCredentials, RegistryImage, RegistryConfigBlob, CallOptions } from './client.ts';
export { parseRepository, registryBaseUrl, registryApiUrl, parseImageReference, hasRegistryHost } from './reference.ts';
export type { RepositoryRef, ImageReference } from './reference.ts';
export { parseDockerConfig, credentialsFor } from './docker-config.ts';
export type { RegistryAuthMap } from './docker-config.ts';
export {
  SEAL_LAYER_MAX_BYTES,
  sealFileFromLayer,
  readRegistrySealText,
  sealTextOrUndefined,
  verifyRegistryImage,
} from './seal.ts';
export type { RegistrySealVerification } from './seal.ts';
