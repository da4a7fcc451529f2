import type { Command } from 'commander';
// only the input schema at startup; the seal run is loaded by the action (one CLI bundle for every command)
import { SealInputs } from '../../action/inputs.ts';
import { addFlags, readFlags, type FlagSpec } from '../flags.ts';
import type { CommandIo } from '../io.ts';
import { packageVersion } from '../version.ts';

/** The seal inputs (action/inputs.ts, one to one), the key optional: it defaults to $SEALWATCH_KEY. */
const SealFlags = SealInputs.extend({ key: SealInputs.shape.key.optional() });
type SealFlags = typeof SealFlags;

const SEAL_FLAGS: FlagSpec<SealFlags, SealInputs | { key?: undefined }, NodeJS.ProcessEnv> = {
  schema: SealFlags,
  values: {
    image: 'ref',
    key: 'key',
    tag: 'ref',
    junit: 'glob',
    'security-suite': 'pattern',
    scan: 'glob',
    sarif: 'glob',
    profile: 'file',
    learned: 'file',
    'runtime-trace': 'file',
    base: 'ref',
    'require-tests': 'pattern',
    'max-severity': 'level',
    'deny-executable': 'glob',
    'bundle-out': 'file',
    output: 'url',
    'docker-socket': 'path',
  },
  // the key from the environment by default: never on the command line, where `ps` shows it to every local user
  normalize: (f, env) => ({ ...f, key: f.key ?? (env.SEALWATCH_KEY ? 'env:SEALWATCH_KEY' : undefined) }),
  rules: (inputs) => ({
    errors: inputs.key === undefined ? ['--key is required (a file, env:NAME, fd:N; or set SEALWATCH_KEY)'] : [],
  }),
};

/** `sealwatch seal`: flags are the seal input schema's keys (action/inputs.ts), one to one. */
export function registerSeal(program: Command, io: CommandIo): void {
  const command = program
    .command('seal')
    .description(
      'seal an image: sign provenance, test evidence, vulnerability scans, inventory and profile into it\n' +
        'exit 0 sealed, 1 a policy gate failed, 2 bad flag or report file, 3 Docker unreachable',
    );
  addFlags(command, SEAL_FLAGS).action(async (_opts: unknown, self: Command) => {
    const inputs = readFlags(self, SEAL_FLAGS, io, io.env) as SealInputs;
    if (self.getOptionValueSource('key') === 'cli' && inputs.key.trimStart().startsWith('-----BEGIN')) {
      io.log.warn(
        '--key with the PEM text shows the private key to every local user (ps); use --key env:NAME, --key fd:N or $SEALWATCH_KEY',
      );
    }
    const { noGithub, githubReporter, sealRunIo } = await import('../../action/index.ts');
    await sealRunIo(inputs, {
      stdout: io.stdout,
      stderr: io.stderr,
      env: io.env,
      cwd: io.cwd,
      logger: io.log.logger('warn'),
      version: packageVersion(),
      github: io.env.GITHUB_ACTIONS === 'true' && io.env.GITHUB_OUTPUT ? githubReporter() : noGithub,
    });
  });
}
