import type { Command } from 'commander';
// only the input schema at startup; the seal run is loaded by the action (one CLI bundle for every command)
import { SealInputs, inputKind, SEAL_INPUT_NAMES } from '../../action/inputs.ts';
import { formatIssues } from '../../shared/config/index.ts';
import { UsageError } from '../../shared/errors/index.ts';
import type { CliIo } from '../io.ts';
import { packageVersion } from '../version.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `sealwatch seal`: flags are the seal input schema's keys (action/inputs.ts), one to one. */
export function registerSeal(program: Command, io: CliIo): void {
  const command = program
    .command('seal')
    .description(
      'seal an image: sign provenance, test evidence, vulnerability scans, inventory and profile into it\n' +
        'exit 0 sealed, 1 a policy gate failed, 2 bad flag or report file, 3 Docker unreachable',
    );
  for (const name of SEAL_INPUT_NAMES) {
    const field = SealInputs.shape[name];
    const description = field.description ?? '';
    const kind = inputKind(name);
    if (kind === 'boolean') command.option(`--${name}`, description);
    else if (kind === 'list') command.option(`--${name} <value>`, `${description} (repeatable)`, collect, []);
    else command.option(`--${name} <value>`, description);
  }
  command.action(async (opts: Record<string, unknown>) => {
    const raw: Record<string, unknown> = {};
    for (const name of SEAL_INPUT_NAMES) {
      const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      if (opts[camel] !== undefined) raw[name] = opts[camel];
    }
    // the key from the environment by default: never on the command line, where `ps` shows it to every local user
    if (raw.key === undefined && io.env.SEALWATCH_KEY) raw.key = 'env:SEALWATCH_KEY';
    if (typeof raw.key === 'string' && raw.key.trimStart().startsWith('-----BEGIN')) {
      io.stderr.write(
        'sealwatch: warning: --key with the PEM text shows the private key to every local user (ps); ' +
          'use --key env:NAME, --key fd:N or $SEALWATCH_KEY\n',
      );
    }
    for (const name of ['image', 'key'] as const) {
      if (raw[name] === undefined) throw new UsageError('MISSING_ARGUMENT', `--${name} is required`);
    }
    const parsed = SealInputs.safeParse(raw);
    if (!parsed.success) {
      const line = formatIssues(parsed.error.issues, 'flags')[0] ?? 'invalid flags';
      throw new UsageError('BAD_ARGUMENT', line.replace(/^flags: ([^:]+):/, '--$1:'));
    }
    const [{ noGithub, githubReporter, sealRunIo }, { createLogger }] = await Promise.all([
      import('../../action/index.ts'),
      import('../../shared/logging/index.ts'),
    ]);
    await sealRunIo(parsed.data, {
      stdout: io.stdout,
      stderr: io.stderr,
      env: io.env,
      cwd: io.cwd,
      logger: createLogger({ stream: io.stderr, level: 'warn' }),
      version: packageVersion(),
      github: io.env.GITHUB_ACTIONS === 'true' && io.env.GITHUB_OUTPUT ? githubReporter() : noGithub,
    });
  });
}
