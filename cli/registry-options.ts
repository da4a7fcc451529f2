import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { readTextFile } from '../shared/config/index.ts';
import { UsageError } from '../shared/errors/index.ts';
import type { RegistryClient, RegistryCredentials } from '../shared/registry/index.ts';
import type { CliIo } from './io.ts';

/**
 * The registry flags every command that reads a registry shares (`verify --image`, `audit image`, `audit
 * latest`): who to log in as, and how long to wait. The password is never a flag (it would show in `ps`).
 */
export const RegistryFlags = z.object({
  username: z.string().min(1).optional(),
  passwordEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .optional(),
  registryAuth: z.string().min(1).optional(),
  timeout: z.coerce
    .number({ error: 'seconds, e.g. 30 or 1.5' })
    .positive('seconds, more than 0')
    .max(600, 'at most 600 seconds')
    .default(30),
});
export type RegistryFlags = z.infer<typeof RegistryFlags>;

export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option('--username <name>', 'registry user (basic auth, or for the bearer token endpoint)')
    .option('--password-env <VAR>', 'environment variable holding the registry password or token')
    .option('--registry-auth <file>', 'docker config.json with registry credentials (e.g. a pull Secret, mounted)')
    .option('--timeout <seconds>', 'time bound of each registry request', '30');
}

/** A client for one registry host, with the credentials the flags give for it. */
export async function registryClientFor(
  registry: string,
  flags: RegistryFlags,
  io: CliIo,
  baseUrl?: string,
): Promise<RegistryClient> {
  const { RegistryClient, registryApiUrl, parseDockerConfig, credentialsFor } =
    await import('../shared/registry/index.ts');
  const password = flags.passwordEnv !== undefined ? io.env[flags.passwordEnv] : undefined;
  if (flags.passwordEnv !== undefined && password === undefined) {
    throw new UsageError('MISSING_ARGUMENT', `--password-env ${flags.passwordEnv}: the variable is not set`);
  }
  if ((flags.username === undefined) !== (password === undefined)) {
    throw new UsageError('MISSING_ARGUMENT', '--username and --password-env go together');
  }
  let credentials: RegistryCredentials | undefined =
    flags.username !== undefined && password !== undefined ? { username: flags.username, password } : undefined;
  if (credentials === undefined && flags.registryAuth !== undefined) {
    const file = resolve(io.cwd, flags.registryAuth);
    credentials = credentialsFor(
      [parseDockerConfig(readTextFile(file, flags.registryAuth), flags.registryAuth)],
      registry,
    );
  }
  return new RegistryClient({
    baseUrl: baseUrl ?? registryApiUrl(registry),
    ...(credentials !== undefined ? { credentials } : {}),
    timeoutMs: Math.round(flags.timeout * 1000),
  });
}
