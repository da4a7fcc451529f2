import { isSealwatchError, type ErrorArea } from '../shared/errors/index.ts';

/** The exit-code contract (DESIGN.md): the only place errors become exit codes. */
export const EXIT = {
  ok: 0,
  /** verification failed or policy violated */
  failed: 1,
  /** usage or config error */
  usage: 2,
  /** environment error: Docker unreachable, permission denied */
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
  return isSealwatchError(error) ? BY_AREA[error.area] : EXIT.environment;
}
