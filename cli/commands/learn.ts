import type { Command } from 'commander';
import { addFlags, readFlags } from '../flags.ts';
import type { CommandIo } from '../io.ts';
import { LEARN_FLAGS, learnRun } from './watch-flags.ts';
import { runWatchCommand } from './watch.ts';

/**
 * `sealwatch learn --container X --duration 5m --out profile.yaml`, the same with `--docker` (from the host,
 * through the kernel proc connector), or `sealwatch learn --out p.yaml -- CMD…`.
 */
export function registerLearn(program: Command, io: CommandIo): void {
  const cmd = program
    .command('learn')
    .description(
      'learn a runtime profile from a container (--container, for --duration) or a command (-- CMD ARGS…, until it exits)\n' +
        'and write it as commented YAML (same workload, same profile); --docker --container learns from the host through\n' +
        'the kernel proc connector',
    )
    .argument('[command...]', 'a command to start and learn from (after --)');
  addFlags(cmd, LEARN_FLAGS).action(async (command: string[], _opts: unknown, self: Command) => {
    const parsed = readFlags(self, LEARN_FLAGS, io, { command, env: io.env, cwd: io.cwd });
    const exit = await runWatchCommand(learnRun(parsed), io);
    io.log.note(`profile written to ${parsed.flags.out}`);
    if (exit !== undefined && exit !== 0) io.log.note(`note: the command exited with code ${exit}`);
  });
}
