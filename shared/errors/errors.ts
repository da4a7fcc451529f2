/**
 * Typed errors, one class per area, each with a closed union of codes and an optional cause.
 * Errors become outcomes only at the boundaries: the CLI maps `area` to an exit code
 * (cli/exit-codes.ts), the API maps them to HTTP statuses, the Action calls setFailed.
 */
export type ErrorArea = 'usage' | 'config' | 'verification' | 'policy' | 'environment' | 'output' | 'internal';

export abstract class SealwatchError<Code extends string = string> extends Error {
  abstract readonly area: ErrorArea;
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The command line itself is wrong: unknown flag, missing argument, conflicting options. */
export class UsageError extends SealwatchError<'BAD_ARGUMENT' | 'MISSING_ARGUMENT' | 'CONFLICT'> {
  readonly area = 'usage';
  /** One line per problem, each naming the flag, variable or config key (all reported at once). */
  readonly problems: readonly string[];

  constructor(code: UsageError['code'], message: string, options?: { cause?: unknown; problems?: readonly string[] }) {
    super(code, message, options);
    this.problems = options?.problems ?? [message];
  }
}

/** A file the user gave us (config, profile, policy, report, key) cannot be read or is invalid. */
export class ConfigError extends SealwatchError<
  'NOT_FOUND' | 'UNREADABLE' | 'PARSE' | 'INVALID' | 'EXISTS' | 'KEY_INVALID'
> {
  readonly area = 'config';
  /** One line per problem, each naming the file and the field path. */
  readonly problems: readonly string[];

  constructor(code: ConfigError['code'], message: string, options?: { cause?: unknown; problems?: readonly string[] }) {
    super(code, message, options);
    this.problems = options?.problems ?? [message];
  }
}

/** A seal or signature failed verification. */
export class VerificationError extends SealwatchError<
  | 'UNSEALED'
  | 'BAD_SIGNATURE'
  | 'UNTRUSTED_KEY'
  | 'BUNDLE_INVALID'
  | 'SUBJECT_MISMATCH'
  | 'STATEMENT_MISSING'
  | 'STATEMENT_UNEXPECTED'
  | 'LAYER_MISMATCH'
  | 'RECORD_INVALID'
> {
  readonly area = 'verification';
}

/** A policy gate failed (tests missing or failed, vulnerabilities over the limit, a denied executable). */
export class PolicyError extends SealwatchError<'GATE_FAILED'> {
  readonly area = 'policy';
}

/**
 * Something outside us is missing or refuses: Docker unreachable, permission denied, a missing image; GONE: what
 * is watched exists but is not running, or went away while watched (exit 3, unlike a name that is not there).
 */
export class EnvironmentError extends SealwatchError<
  'DOCKER_UNREACHABLE' | 'PERMISSION_DENIED' | 'NOT_FOUND' | 'GONE' | 'UNSUPPORTED' | 'IO'
> {
  readonly area = 'environment';
}

/** An output (sink) could not be configured or failed in a way that cannot be retried. */
export class OutputError extends SealwatchError<'BAD_URL' | 'UNSUPPORTED' | 'SEND_FAILED' | 'SPOOL_FAILED'> {
  readonly area = 'output';
}

/** A bug: an invariant we rely on did not hold. */
export class InternalError extends SealwatchError<'INVARIANT'> {
  readonly area = 'internal';
}

export function isSealwatchError(error: unknown): error is SealwatchError {
  return error instanceof SealwatchError;
}

/** Node's errno errors (ENOENT, EACCES, …) carry a `code` string. */
export function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}
