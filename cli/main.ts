import { Command, CommanderError } from 'commander';
import { ConfigError, isSealwatchError } from '../shared/errors/index.ts';
import { escapeTerminal } from '../shared/text/index.ts';
import { COMMANDS } from './commands/index.ts';
import { EXIT, ExitWith, exitCodeFor } from './exit-codes.ts';
import { println, processIo, type CliIo } from './io.ts';
import { packageVersion } from './version.ts';

export function buildProgram(io: CliIo): Command {
  const program = new Command('sealwatch')
    .description(
      'Seal container images in CI (signed provenance, test evidence, inventory, runtime profile)\n' +
        'and watch them at runtime against that seal.\n\n' +
        'Exit codes: 0 ok, 1 verification failed or policy violated, 2 usage or config error, 3 environment error.',
    )
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, io);
  for (const command of [...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    command.exitOverride();
    // The command list shows one line each: the description's first sentence; `--help` of the command shows it all.
    if (command.summary() === '') command.summary(firstSentence(command.description()));
  }
  return program;
}

function firstSentence(text: string): string {
  const line = text.split('\n')[0] ?? '';
  const end = line.search(/[.:;](\s|$)/);
  return (end > 0 ? line.slice(0, end) : line).trim();
}

/** Runs the CLI and returns the exit code; the only place errors turn into exit codes. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
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
 * paths), so every line is escaped for the terminal: a hostile string can neither clear the screen nor add a
 * line of its own.
 */
function reportError(error: unknown, io: CliIo): void {
  if (error instanceof ConfigError && error.problems.length > 0) {
    for (const line of error.problems) println(io.stderr, escapeTerminal(line));
    return;
  }
  if (isSealwatchError(error)) {
    println(io.stderr, `sealwatch: ${escapeTerminal(error.message)}`);
    return;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  println(io.stderr, `sealwatch: unexpected error: ${text.split('\n').map(escapeTerminal).join('\n')}`);
}
