import { UsageError } from '../../shared/errors/index.ts';

export interface RepositoryRef {
  /** Registry host[:port] when the name has one (`127.0.0.1:5000/app` → `127.0.0.1:5000`). */
  registry?: string;
  /** Repository path within the registry (`app`, `org/app`). */
  path: string;
  /** As given. */
  name: string;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/;

/**
 * Docker's rule: the first path component is a registry host when it contains `.` or `:` or is
 * `localhost`. Tags and digests are not part of a repository.
 */
export function parseRepository(name: string): RepositoryRef {
  const last = name.slice(name.lastIndexOf('/') + 1);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._:/[\]-]*$/.test(name) || name.includes('@') || last.includes(':') || last === '') {
    throw new UsageError(
      'BAD_ARGUMENT',
      `REPOSITORY: "${name}" is not a repository name (no tag or digest: app, org/app, host:5000/app)`,
    );
  }
  const [first, ...rest] = name.split('/');
  if (rest.length > 0 && first !== undefined && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return { registry: first, path: rest.join('/'), name };
  }
  return { path: name, name };
}

/** https for registries, http for loopback ones (as Docker treats 127.0.0.0/8 as insecure). */
export function registryBaseUrl(registry: string): string {
  return `${LOOPBACK.test(registry) ? 'http' : 'https'}://${registry}`;
}
