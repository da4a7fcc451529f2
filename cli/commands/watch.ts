import type { Command } from 'commander';
import { ExitWith } from '../exit-codes.ts';
import { addFlags, readFlags } from '../flags.ts';
import type { CommandIo } from '../io.ts';
import { packageVersion } from '../version.ts';
import { WATCH_FLAGS, watchRun, type WatchOptions, type WatchRun } from './watch-flags.ts';

export function registerWatch(program: Command, io: CommandIo): void {
  const cmd = program
    .command('watch')
    .description(
      'watch processes, sockets and files of a pod (shared PID namespace), a container (--container) or a command (-- CMD ARGS…)\n' +
        'against a profile and the built-in rules; alert, or kill in enforce mode',
    )
    .argument('[command...]', 'a command to start and watch (after --)');
  addFlags(cmd, WATCH_FLAGS).action(async (command: string[], _opts: unknown, self: Command) => {
    const parsed = readFlags(self, WATCH_FLAGS, io, { command, env: io.env, cwd: io.cwd });
    // `watch -- COMMAND`: the command's exit code is sealwatch's; a target stopped for its seal is 1
    const code = await runWatchCommand(watchRun(parsed), io);
    if (code !== undefined && code !== 0) throw new ExitWith(code);
  });
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * Runs a parsed `watch` or `learn` (cli/commands/watch-flags.ts) until SIGINT/SIGTERM, the duration, the watched
 * command's exit or the container's removal. Returns the exit code of a watched command, 1 when the target was
 * stopped for its seal.
 */
export async function runWatchCommand(run: WatchRun, io: CommandIo): Promise<number | undefined> {
  // loaded here, not at startup: every command shares one CLI bundle (see scripts/build.mjs); the Docker client
  // (dockerode pulls in gRPC and ssh2, ~24 MB resident) only when the engine is used
  const socketPath = run.kind === 'watch' && !run.usesDocker ? undefined : run.dockerSocket;
  const docker =
    socketPath !== undefined
      ? await import('../../shared/docker/index.ts').then(({ createDockerClient }) =>
          once(() => createDockerClient({ socketPath })),
        )
      : undefined;
  // the evidence key signs the event record (`--evidence-key`): read before anything starts
  const { evidenceKeyFile } = run.options as WatchOptions;
  const evidenceKey =
    evidenceKeyFile === undefined
      ? undefined
      : (await import('../../shared/signing/index.ts')).loadSigningKey(evidenceKeyFile, '--evidence-key');
  const logger = io.log.logger();
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const common = { logger, stdout: io.stdout, env: io.env, signal: controller.signal };
  try {
    if (run.kind === 'host-agent') {
      const { runHostAgent } = await import('../../sidecar/host-agent/index.ts');
      await runHostAgent(
        { ...run.options, version: packageVersion(), ...(evidenceKey ? { evidenceKey } : {}) },
        { ...common, ...(docker ? { docker: docker() } : {}) },
      );
      return undefined;
    }
    if (run.kind === 'host-learn') {
      const { runHostLearn } = await import('../../sidecar/host-agent/index.ts');
      const result = await runHostLearn(
        { ...run.options, version: packageVersion() },
        { ...common, docker: docker!() },
      );
      const c = result.connector;
      logger.info(
        result.execSource === 'proc-connector'
          ? `learned from ${result.processesSeen} process starts; kernel proc connector: ${c.execs} execs on the host, ${c.partial} of this container read after exit (no exe/argv), ${c.unreadable} gone before any read`
          : `learned from ${result.processesSeen} process starts by /proc polling (${result.execSourceReason ?? ''}): programs shorter than a tick can be missing`,
      );
      return undefined;
    }
    const { runWatch } = await import('../../sidecar/run-watch.ts');
    const result = await runWatch(
      { ...run.options, version: packageVersion(), ...(evidenceKey ? { evidenceKey } : {}) },
      { ...common, docker },
    );
    // stopped for a missing or invalid seal: a policy violation
    return result.stopped ? 1 : result.commandExit;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
