import { execFile, type ExecFileOptions } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a program without a shell; resolves with its output and exit code (never rejects on exit code). */
export function run(
  file: string,
  args: readonly string[],
  options: ExecFileOptions & { input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...options },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- ExecFileException is an Error
          reject(error);
          return;
        }
        resolve({
          stdout: String(stdout),
          stderr: String(stderr),
          code: typeof error?.code === 'number' ? error.code : 0,
        });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like run(), but rejects with the command's stderr when it exits non-zero. */
export async function runOk(
  file: string,
  args: readonly string[],
  options: ExecFileOptions & { input?: string } = {},
): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}
