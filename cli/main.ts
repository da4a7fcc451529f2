import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { ConfigError, UsageError, isSealwatchError } from '../shared/errors/index.ts';
import { COMMANDS } from './commands/index.ts';
import { createDiagnostics, type LogSettings } from './diagnostics.ts';
import { EXIT, ExitWith, exitCodeFor } from './exit-codes.ts';
import { addFlags, envName, readFlags, type FlagSpec } from './flags.ts';
import { processIo, type CliIo, type CommandIo } from './io.ts';
import { packageVersion } from './version.ts';

/** The global flags: how the run reports on stderr (cli/diagnostics.ts). */
const LogFlags = z
  .object({
    'log-level': z
      .enum(['error', 'warn', 'info', 'debug'])
      .optional()
      .describe('diagnostics on stderr at or above this level (default: info; warn for seal and send-test)'),
    'log-format': z
      .enum(['text', 'json'])
      .default('text')
      .describe('diagnostics on stderr as human lines, or one JSON object per line (for a log pipeline)'),
  })
  .strict();

const LOG_FLAGS: FlagSpec<typeof LogFlags, LogSettings> = {
  schema: LogFlags,
  values: { 'log-level': 'level', 'log-format': 'format' },
  env: true,
  normalize: (f) => ({ ...(f['log-level'] !== undefined ? { level: f['log-level'] } : {}), format: f['log-format'] }),
};

/** The command tree; without diagnostics (tests reading the tree) they are made on `io.stderr`, as text. */
export function buildProgram(streams: CliIo & { log?: CommandIo['log'] }): Command {
  const io: CommandIo = {
    ...streams,
    log: streams.log ?? createDiagnostics(streams.stderr, () => ({ format: 'text' })),
  };
  const program = new Command('sealwatch')
    .description(
      'Seal container images in CI (signed provenance, test evidence, inventory, runtime profile)\n' +
        'and watch them at runtime against that seal.\n\n' +
        'Exit codes: 0 ok, 1 verification failed or policy violated, 2 usage or config error, 3 environment error.',
    )
    .version(packageVersion(), '-V, --version')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  addFlags(program, LOG_FLAGS);
  for (const register of COMMANDS) register(program, io);
  for (const command of commandTree(program)) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // commander's usage errors (unknown flag or command, missing value) as one line in the run's format
      outputError: (text) => io.log.problem(usageLine(command, text)),
    });
    // The command list shows one line each: the description's first sentence; `--help` of the command shows it all.
    if (command !== program && command.summary() === '') command.summary(firstSentence(command.description()));
  }
  return program;
}

/** The program and every command below it. */
export function commandTree(program: Command): Command[] {
  return [program, ...program.commands.flatMap((c) => commandTree(c))];
}

/** `sealwatch watch` for the watch command. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `error: unknown option '--tik'\n(Did you mean --tick?)` → `sealwatch watch: unknown option '--tik' (did you mean --tick?); see sealwatch watch --help`. */
function usageLine(command: Command, text: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.replace(/^\(Did you mean/, '(did you mean'))
    .join(' ');
  const path = commandPath(command);
  return `${path}: ${message}; see ${path} --help`;
}

function firstSentence(text: string): string {
  const line = text.split('\n')[0] ?? '';
  const end = line.search(/[.:;](\s|$)/);
  return (end > 0 ? line.slice(0, end) : line).trim();
}

/** Runs the CLI and returns the exit code; the only place errors turn into exit codes. */
export async function runCli(argv: readonly string[], streams: CliIo = processIo()): Promise<number> {
  // the global flags are read when an action starts; until then (a usage error) the best guess from what was given
  const run: { program?: Command; settings?: LogSettings } = {};
  const guess = (): LogSettings => {
    const format: unknown = run.program?.getOptionValue('logFormat') ?? streams.env[envName('log-format')];
    return { format: format === 'json' ? 'json' : 'text' };
  };
  const io: CommandIo = { ...streams, log: createDiagnostics(streams.stderr, () => run.settings ?? guess()) };
  const program = buildProgram(io);
  run.program = program;
  program.hook('preAction', () => {
    run.settings = readFlags(program, LOG_FLAGS, io);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; commander already printed its message.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (!(error instanceof ExitWith)) reportError(error, io);
    return exitCodeFor(error);
  }
}

/**
 * One line per problem on stderr. Messages quote what images, bundles and files hold (key hints, label keys,
 * paths), so every line is escaped for the terminal (cli/diagnostics.ts): a hostile string can neither clear the
 * screen nor add a line of its own.
 */
function reportError(error: unknown, io: CommandIo): void {
  if (error instanceof ConfigError && error.problems.length > 0) {
    for (const line of error.problems) io.log.problem(line);
    return;
  }
  if (error instanceof UsageError) {
    for (const line of error.problems) io.log.error(line);
    return;
  }
  if (isSealwatchError(error)) {
    io.log.error(error.message);
    return;
  }
  const [first = '', ...stack] = (error instanceof Error ? (error.stack ?? error.message) : String(error)).split('\n');
  io.log.error(`unexpected error: ${first}`);
  for (const line of stack) io.log.problem(line);
}
