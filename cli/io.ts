import type { Diagnostics } from './diagnostics.ts';

/**
 * What a command may touch of the process: its streams, env and cwd. Passed in so commands stay
 * testable in-process and never read process.env deep inside.
 */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** What a command gets: the process's streams, env and cwd, and the run's diagnostics (every line on stderr). */
export interface CommandIo extends CliIo {
  log: Diagnostics;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export function println(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}
