import { createDockerClient } from '../shared/docker/index.ts';
import { createDispatcher, parseOutputUrl, type Dispatcher } from '../shared/outputs/index.ts';
import type { Logger } from '../shared/logging/index.ts';
import { PolicyError } from '../shared/errors/index.ts';
import { createProgressLine } from '../shared/text/index.ts';
import { readGitInfo } from './context/index.ts';
import type { SealInputs } from './inputs.ts';
import { runSeal, type SealResult } from './run.ts';
import { formatSummaryMarkdown, formatSummaryText } from './summary/index.ts';
import { reportToGithub, type GithubReporter } from './github/index.ts';

export interface SealRunStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  logger: Logger;
  version: string;
  github: GithubReporter;
}

/**
 * The seal step as the CLI and the Action both run it: build the clients, run the pipeline,
 * print (text, or JSON with --json), report to GitHub, dispatch the event, and throw
 * PolicyError when a gate failed. ANSI colour and the live progress line only on a TTY.
 */
export async function sealRunIo(inputs: SealInputs, io: SealRunStreams): Promise<SealResult> {
  const specs = inputs.output.map(parseOutputUrl);
  const dispatcher: Dispatcher | undefined =
    specs.length > 0
      ? createDispatcher(specs, { logger: io.logger, version: io.version, env: io.env, stdout: io.stdout })
      : undefined;
  const tty = io.stderr.isTTY === true;
  const progress =
    tty || inputs.progress
      ? createProgressLine({ label: 'reading image', write: (text) => io.stderr.write(text), tty })
      : undefined;
  const onProgress = progress ? (bytes: number, total: number) => progress.update(bytes, total) : undefined;
  try {
    const result = await runSeal(inputs, {
      docker: createDockerClient({ socketPath: inputs['docker-socket'] }),
      env: io.env,
      cwd: io.cwd,
      git: readGitInfo(io.cwd),
      now: () => new Date(),
      toolVersion: io.version,
      ...(onProgress ? { onProgress } : {}),
      ...(dispatcher ? { dispatcher } : {}),
      ...(io.env.SEALWATCH_REGISTRY_USERNAME && io.env.SEALWATCH_REGISTRY_PASSWORD
        ? {
            registryAuth: {
              username: io.env.SEALWATCH_REGISTRY_USERNAME,
              password: io.env.SEALWATCH_REGISTRY_PASSWORD,
              ...(io.env.SEALWATCH_REGISTRY_SERVER ? { serveraddress: io.env.SEALWATCH_REGISTRY_SERVER } : {}),
            },
          }
        : {}),
    });
    progress?.done();
    if (inputs.json) io.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
    else io.stdout.write(formatSummaryText(result.summary, { color: io.stdout.isTTY === true }));
    await reportToGithub(
      io.github,
      {
        identity: result.summary.identity,
        sealed: result.summary.sealed,
        ...(result.summary.imageId ? { imageId: result.summary.imageId } : {}),
        ...(result.summary.bundlePath ? { bundlePath: result.summary.bundlePath } : {}),
      },
      formatSummaryMarkdown(result.summary),
    );
    const failed = result.gates.filter((g) => !g.ok);
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new PolicyError(
        'GATE_FAILED',
        `policy gate failed: --${first.gate} ${first.rule}: ${first.reason}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}${result.summary.sealed ? ' (sealed anyway: --seal-on-fail)' : '; image not sealed'}`,
      );
    }
    return result;
  } finally {
    if (dispatcher) {
      await dispatcher.flush().catch(() => undefined);
      await dispatcher.close().catch(() => undefined);
    }
  }
}
