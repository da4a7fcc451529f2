/**
 * The GitHub Action's entry point (bundled to dist/action/index.mjs, `runs.using: node24`): turn
 * the Action inputs into SealInputs and run the same seal step as `sealwatch seal`. Errors become
 * `setFailed` here and only here.
 */
import { formatIssues } from '../shared/config/index.ts';
import { createLogger } from '../shared/logging/index.ts';
import { isSealwatchError } from '../shared/errors/index.ts';
import { SealInputs, fromStringInputs } from './inputs.ts';
import { githubReporter } from './github/index.ts';
import { sealRunIo } from './run-io.ts';

declare const SEALWATCH_VERSION: string | undefined;

export async function main(): Promise<void> {
  const github = githubReporter();
  const parsed = SealInputs.safeParse(fromStringInputs((name) => github.getInput(name)));
  if (!parsed.success) {
    github.setFailed(formatIssues(parsed.error.issues, 'action inputs').join('; '));
    return;
  }
  try {
    await sealRunIo(parsed.data, {
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      cwd: process.cwd(),
      logger: createLogger({ stream: process.stderr, level: 'warn' }),
      version: typeof SEALWATCH_VERSION === 'string' ? SEALWATCH_VERSION : '0.0.0-dev',
      github,
    });
  } catch (error) {
    github.setFailed(
      isSealwatchError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error),
    );
  }
}

await main();
