import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';
import type { Event } from '../../shared/events/index.ts';
import { readEventsFile } from './wait.ts';

/** Streams for running the real CLI in-process, with what it wrote collected as text. */
export function captureIo(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): {
  io: CliIo;
  stdout: () => string;
  stderr: () => string;
} {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return {
    io: { stdout, stderr, env: options.env ?? {}, cwd: options.cwd ?? process.cwd() },
    stdout: () => out,
    stderr: () => err,
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sealwatch ARGV…` in-process (the same code as the binary) and returns its exit code and output. */
export async function runCliCaptured(
  argv: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const captured = captureIo(options);
  const code = await runCli(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/**
 * `sealwatch watch [flags] --output file://<cwd>/events.jsonl --tick 50 -- sh -c SCRIPT [ARGS…]` in-process, with real
 * processes: its run and the events it wrote.
 */
export async function watchScript(
  cwd: string,
  script: string,
  options: { flags?: string[]; args?: string[] } = {},
): Promise<CliRun & { events: Event[] }> {
  const file = join(cwd, 'events.jsonl');
  const run = await runCliCaptured(
    ['watch', ...(options.flags ?? []), '--output', `file://${file}`, '--tick', '50', '--', 'sh', '-c', script].concat(
      options.args === undefined ? [] : ['sh', ...options.args],
    ),
    { cwd },
  );
  return { ...run, events: readEventsFile(file) };
}
