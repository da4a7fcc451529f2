import { resolve } from 'node:path';
import { Option as CommanderOption, type Command, type Option } from 'commander';
import { parseYaml, readTextFile } from '../shared/config/index.ts';
import { ConfigError } from '../shared/errors/index.ts';

/**
 * Where a command's options may come from besides the command line: environment variables and a YAML
 * config file (`--config FILE`). Precedence: flag > environment > config file > default.
 *
 * Lets every long option of a command be set by an environment variable: `--listen` by
 * `SEALWATCH_LISTEN`, `--kill-min-severity` by `SEALWATCH_KILL_MIN_SEVERITY` (the container way to
 * configure). Precedence: flag > environment > default. Values go through the same parsing and zod
 * validation as flags, so a bad value fails with the same one-line error. A repeatable option
 * (`--output`) takes one value from its variable; a boolean flag is on for `1`/`true`/`yes`.
 * The variable names are listed in `--help`. `env` is the CLI's env (CliIo), not process.env.
 */
export function bindEnvironment(cmd: Command, env: NodeJS.ProcessEnv, prefix = 'SEALWATCH_'): Command {
  const bound = cmd.options
    .filter((o) => o.long !== undefined && o.long !== '--help' && o.long !== '--version' && !o.negate)
    .map((option) => {
      const name = `${prefix}${option.long!.slice(2).replaceAll('-', '_').toUpperCase()}`;
      // Sets the name shown in --help. Commander only reads variables it knew when the option was
      // added, so the values themselves are applied by the hook below.
      option.env(name);
      return { option, name };
    });
  return cmd.hook('preAction', (command) => {
    for (const { option, name } of bound) {
      const value = env[name];
      if (value === undefined || value === '') continue;
      const key = option.attributeName();
      const source = command.getOptionValueSource(key);
      if (source !== undefined && source !== 'default') continue;
      let parsed: unknown;
      if (option.required || option.optional) {
        parsed = option.parseArg ? option.parseArg(value, undefined) : value;
      } else {
        parsed = /^(1|true|yes|on)$/i.test(value);
      }
      command.setOptionValueWithSource(key, parsed, 'env');
    }
  });
}

/**
 * Adds `--config FILE`: a YAML mapping whose keys are the command's long flags without the dashes
 * (`mode: enforce`, `output: [syslog+tcp://…, file:///…]` for a repeatable flag, `dry-run: true`). Values go
 * through the same parsing and validation as flags; an unknown key or a wrong type is a one-line error naming
 * the file and the key. Call after `bindEnvironment` so the environment wins over the file (and
 * `SEALWATCH_CONFIG` can name the file).
 */
export function bindConfigFile(
  cmd: Command,
  io: { env: NodeJS.ProcessEnv; cwd: string },
  prefix = 'SEALWATCH_',
): Command {
  const variable = `${prefix}CONFIG`;
  cmd.addOption(
    new CommanderOption(
      '--config <file>',
      'YAML file of options (keys are the long flags without --); flags and SEALWATCH_* variables override it',
    ).env(variable),
  );
  const cwd = io.cwd;
  return cmd.hook('preAction', (command) => {
    const file = (command.getOptionValue('config') as string | undefined) ?? (io.env[variable] || undefined);
    if (file === undefined) return;
    const raw = parseYaml(readTextFile(resolve(cwd, file), file), file);
    if (raw === null || raw === undefined) return;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError('INVALID', `${file}: expected a mapping of option names to values`);
    }
    const options = new Map(
      command.options.filter((o) => o.long !== undefined).map((o) => [o.long!.slice(2), o] as const),
    );
    const problems: string[] = [];
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      const option = options.get(key);
      if (option === undefined || key === 'config' || key === 'help' || option.negate) {
        problems.push(
          `${file}: ${key}: unknown option (keys are the long flags of \`sealwatch ${command.name()}\` without --)`,
        );
        continue;
      }
      const source = command.getOptionValueSource(option.attributeName());
      if (source !== undefined && source !== 'default') continue;
      const problem = applyConfigValue(command, option, value);
      if (problem !== undefined) problems.push(`${file}: ${key}: ${problem}`);
    }
    if (problems.length > 0) throw new ConfigError('INVALID', problems[0]!, { problems });
  });
}

function applyConfigValue(command: Command, option: Option, value: unknown): string | undefined {
  const key = option.attributeName();
  if (!option.required && !option.optional) {
    if (typeof value !== 'boolean') return 'expected true or false';
    command.setOptionValueWithSource(key, value, 'config');
    return undefined;
  }
  const scalar = (v: unknown): string | undefined =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  const values = Array.isArray(value) ? value.map(scalar) : [scalar(value)];
  if (values.some((v) => v === undefined)) return 'expected a string or number (or a list of them)';
  // Repeatable options (a collect() parser) take a list; others one value.
  if (values.length !== 1 && option.parseArg === undefined) return 'expected one value, not a list';
  let parsed: unknown = option.defaultValue;
  for (const v of values as string[]) parsed = option.parseArg ? option.parseArg(v, parsed) : v;
  command.setOptionValueWithSource(key, parsed, 'config');
  return undefined;
}
