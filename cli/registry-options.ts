import { resolve } from 'node:path';
import { z } from 'zod';
import { readTextFile } from '../shared/config/index.ts';
import { UsageError } from '../shared/errors/index.ts';
import type { RegistryClient, RegistryCredentials } from '../shared/registry/index.ts';
import { EnvName, positive } from './flag-types.ts';
import type { CliIo } from './io.ts';

/**
 * The registry flags every command that reads a registry shares (`verify --image`, `audit image`, `audit
 * latest`): who to log in as, and how long to wait. The password is never a flag (it would show in `ps`).
 * Spread into a command's flag schema (`...REGISTRY_FLAGS`).
 */
export const REGISTRY_FLAGS = {
  username: z.string().min(1).optional().describe('registry user (basic auth, or for the bearer token endpoint)'),
  'password-env': EnvName.optional().describe('environment variable holding the registry password or token'),
  'registry-auth': z
    .string()
    .min(1)
    .optional()
    .describe('docker config.json with registry credentials (e.g. a pull Secret, mounted)'),
  timeout: positive('seconds, e.g. 30 or 1.5', 600).default(30).describe('time bound of each registry request'),
};
export const REGISTRY_VALUES = { username: 'name', 'password-env': 'VAR', 'registry-auth': 'file', timeout: 'seconds' };

export type RegistryFlags = z.output<z.ZodObject<typeof REGISTRY_FLAGS>>;

/** A client for one registry host, with the credentials the flags give for it. */
export async function registryClientFor(
  registry: string,
  flags: RegistryFlags,
  io: CliIo,
  baseUrl?: string,
): Promise<RegistryClient> {
  const { RegistryClient, registryApiUrl, parseDockerConfig, credentialsFor } =
    await import('../shared/registry/index.ts');
  const password = flags['password-env'] !== undefined ? io.env[flags['password-env']] : undefined;
  if (flags['password-env'] !== undefined && password === undefined) {
    throw new UsageError('MISSING_ARGUMENT', `--password-env ${flags['password-env']}: the variable is not set`);
  }
  if ((flags.username === undefined) !== (password === undefined)) {
    throw new UsageError('MISSING_ARGUMENT', '--username and --password-env go together');
  }
  let credentials: RegistryCredentials | undefined =
    flags.username !== undefined && password !== undefined ? { username: flags.username, password } : undefined;
  if (credentials === undefined && flags['registry-auth'] !== undefined) {
    const file = resolve(io.cwd, flags['registry-auth']);
    credentials = credentialsFor(
      [parseDockerConfig(readTextFile(file, flags['registry-auth']), flags['registry-auth'])],
      registry,
    );
  }
  return new RegistryClient({
    baseUrl: baseUrl ?? registryApiUrl(registry),
    ...(credentials !== undefined ? { credentials } : {}),
    timeoutMs: Math.round(flags.timeout * 1000),
  });
}
