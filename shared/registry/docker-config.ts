import { z } from 'zod';
import { ConfigError } from '../errors/index.ts';
import type { RegistryCredentials } from './client.ts';

/**
 * Registry credentials as Docker and Kubernetes store them: `~/.docker/config.json` and the
 * `kubernetes.io/dockerconfigjson` Secret (`{"auths": {HOST: {auth | username+password}}}`), or the older
 * `kubernetes.io/dockercfg` form (the same map without `auths`). Keys may carry a scheme and path
 * (`https://index.docker.io/v1/`) or a leading `*.` wildcard of one DNS label, as the kubelet matches them.
 */
const AuthEntry = z.looseObject({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
});
const DockerConfigJson = z.union([
  z.looseObject({ auths: z.record(z.string(), AuthEntry) }),
  z.record(z.string(), AuthEntry),
]);

export type RegistryAuthMap = Map<string, RegistryCredentials>;

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

function hostOf(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return DOCKER_HUB.has(host) ? 'docker.io' : host;
}

/** Parses a docker config JSON text; `source` names it in errors (never its content). */
export function parseDockerConfig(text: string, source: string): RegistryAuthMap {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError('PARSE', `${source}: not JSON (expected a docker config.json: {"auths": {…}})`);
  }
  const parsed = DockerConfigJson.safeParse(raw);
  if (!parsed.success) throw new ConfigError('INVALID', `${source}: not a docker config.json (auths: HOST → auth)`);
  const entries = 'auths' in parsed.data && typeof parsed.data.auths === 'object' ? parsed.data.auths : parsed.data;
  const out: RegistryAuthMap = new Map();
  for (const [key, entry] of Object.entries(entries as Record<string, z.infer<typeof AuthEntry>>)) {
    let username = entry.username;
    let password = entry.password;
    if (entry.auth !== undefined && (username === undefined || password === undefined)) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0)
        throw new ConfigError('INVALID', `${source}: auths["${hostOf(key)}"].auth is not base64 user:password`);
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    if (username === undefined || password === undefined) continue;
    out.set(hostOf(key), { username, password });
  }
  return out;
}

/** The credentials for a registry host (`host[:port]`): exact first, then a `*.domain` wildcard. */
export function credentialsFor(auths: readonly RegistryAuthMap[], registry: string): RegistryCredentials | undefined {
  const host = hostOf(registry);
  for (const map of auths) {
    const exact = map.get(host);
    if (exact) return exact;
  }
  const [name, port] = host.split(/:(?=\d+$)/);
  const parent = name!.slice(name!.indexOf('.') + 1);
  const wildcard = `*.${parent}${port !== undefined ? `:${port}` : ''}`;
  for (const map of auths) {
    const match = map.get(wildcard);
    if (match) return match;
  }
  return undefined;
}
