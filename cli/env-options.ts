import type { Command } from 'commander';

/**
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
