import { UsageError } from '../errors/index.ts';

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

export interface ImageReference {
  /** Registry host[:port]; Docker Hub (`docker.io`) when the name has none. */
  registry: string;
  /** Repository path within the registry (`library/nginx` for Docker Hub's short names). */
  repository: string;
  tag?: string;
  /** `sha256:<hex>` when the reference pins one. */
  digest?: string;
  /** As given. */
  name: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * An image reference as Kubernetes and Docker read it: `[host[:port]/]path[:tag][@sha256:…]`. Without a host
 * it is Docker Hub (`nginx` → `docker.io/library/nginx:latest`); without tag or digest, `:latest`.
 */
export function parseImageReference(name: string, flag = '--image'): ImageReference {
  const bad = (why: string): UsageError =>
    new UsageError('BAD_ARGUMENT', `${flag}: "${name.slice(0, 300)}" is not an image reference (${why})`);
  if (name.length === 0 || name.length > 1024 || /[\s\0]/.test(name)) throw bad('empty, too long, or has spaces');
  let rest = name;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256:<64 hex>');
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad('bad tag');
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(registry)) throw bad('bad registry host');
  }
  if (parts.length === 0 || !parts.every((p) => PATH_COMPONENT.test(p))) throw bad('bad repository path');
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return {
    registry,
    repository: parts.join('/'),
    ...(tag !== undefined ? { tag } : digest === undefined ? { tag: 'latest' } : {}),
    ...(digest !== undefined ? { digest } : {}),
    name,
  };
}

/** Does the reference name a registry host explicitly (`host:5000/app`, `registry.example/app`)? */
export function hasRegistryHost(name: string): boolean {
  const first = name.split('/')[0] ?? '';
  return name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}

/** The registry's API base URL (Docker Hub's API lives at registry-1.docker.io). */
export function registryApiUrl(registry: string): string {
  return registry === 'docker.io' ? 'https://registry-1.docker.io' : registryBaseUrl(registry);
}
