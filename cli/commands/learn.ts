import type { Command } from 'commander';
import { UsageError } from '../../shared/errors/index.ts';
import { println, type CliIo } from '../io.ts';
import { addWatchOptions, execute, executeHostLearn } from './watch.ts';

/**
 * `sealwatch learn --container X --duration 5m --out profile.yaml`, the same with `--docker` (from the host,
 * through the kernel proc connector), or `sealwatch learn --out p.yaml -- CMD…`.
 */
export function registerLearn(program: Command, io: CliIo): void {
  const cmd = program
    .command('learn')
    .description(
      'learn a runtime profile from a container (--container, for --duration) or a command (-- CMD ARGS…, until it exits)\n' +
        'and write it as commented YAML (same workload, same profile); --docker --container learns from the host through\n' +
        'the kernel proc connector',
    )
    .argument('[command...]', 'a command to start and learn from (after --)')
    .requiredOption('--out <file>', 'where to write the learned profile (YAML)')
    .option('--duration <time>', 'how long to learn, e.g. 30s, 5m (required with --container)')
    .option('--headroom <factor>', 'multiplier on observed memory p99 and process count', '2')
    .option(
      '--docker',
      'with --container: learn from the host through the kernel proc connector (every exec, even 1 ms programs); needs root in the host PID namespace',
    )
    .option('--no-proc-connector', 'with --docker: poll /proc instead of opening the kernel proc connector');
  addWatchOptions(cmd).action(async (command: string[], raw: Record<string, unknown>) => {
    if (command.length === 0 && raw.duration === undefined) {
      throw new UsageError('MISSING_ARGUMENT', 'learn needs -- COMMAND, or --duration with --container or a pod');
    }
    if (raw.docker === true) {
      await executeHostLearn({ ...raw, command }, io);
      println(io.stderr, `profile written to ${String(raw.out)}`);
      return;
    }
    const exit = await execute({ ...raw, command, mode: 'learn' }, io);
    println(io.stderr, `profile written to ${String(raw.out)}`);
    if (exit !== undefined && exit !== 0) println(io.stderr, `note: the command exited with code ${exit}`);
  });
}
