import { isSealwatchError, type ErrorArea } from '../shared/errors/index.ts';

/** The exit-code contract (README and docs/architecture.md): the only place errors become exit codes. */
export const EXIT = {
  ok: 0,
  /** verification failed or policy violated */
  failed: 1,
  /**
   * usage or config error, including a name that does not exist: a file, an image, a container or a
   * registry repository the user named (a typo is the user's to fix, like a bad flag)
   */
  usage: 2,
  /** environment error: Docker unreachable, permission denied, an engine or registry that fails */
  environment: 3,
} as const;

const BY_AREA: Record<ErrorArea, number> = {
  usage: EXIT.usage,
  config: EXIT.usage,
  verification: EXIT.failed,
  policy: EXIT.failed,
  environment: EXIT.environment,
  output: EXIT.usage,
  internal: EXIT.environment,
};

/**
 * A command that ends with a code of its own, not an error: `watch -- COMMAND` passes the
 * command's exit code through. Thrown by the action, turned into the exit code by runCli, silently.
 */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'ExitWith';
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof ExitWith) return error.code;
  if (!isSealwatchError(error)) return EXIT.environment;
  // the engine or registry answered, and what was named is not there: not an environment failure
  if (error.area === 'environment' && error.code === 'NOT_FOUND') return EXIT.usage;
  return BY_AREA[error.area];
}
