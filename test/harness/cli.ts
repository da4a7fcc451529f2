import { PassThrough } from 'node:stream';
import { runCli } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';

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
