import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { formatPath, issueMessage, parseYaml, readTextFile } from '../shared/config/index.ts';
import { UsageError } from '../shared/errors/index.ts';
import type { CommandIo } from './io.ts';

/**
 * Every command's flags come from one zod object schema whose keys are the long flag names (`tick`, `dry-run`),
 * each with `.describe()` (its help) and, where it has one, its default:
 * - `addFlags` declares them to commander: a boolean is a switch (`--no-NAME` when it defaults to true), a list
 *   repeatable, `true | string` takes an optional value (`--NAME [value]`); the help shows the default and the
 *   variable;
 * - `readFlags` gathers what was given, command line > `SEALWATCH_*` variable > `--config` file, validates it
 *   with the schema, normalizes it and runs the command's cross-field rules, and reports every problem at once,
 *   each naming where the value came from: `--tick`, `SEALWATCH_TICK`, `watch.yaml: tick`.
 * This is the one place where zod errors become usage errors (exit 2).
 */
export interface FlagSpec<S extends z.ZodObject, N = z.output<S>, A = undefined> {
  schema: S;
  /** The value's name in --help (`--tick <ms>`); default `<value>`. */
  values?: { [K in keyof z.input<S>]?: string };
  /** Every flag may be set by its variable: `--kill-min-severity` by `SEALWATCH_KILL_MIN_SEVERITY`. */
  env?: boolean;
  /** `--config FILE` (or `SEALWATCH_CONFIG`): a YAML mapping of flag names to values, below flags and variables. */
  configFile?: boolean;
  /** The parsed flags (and the command's positional arguments) as the command uses them. */
  normalize?: (flags: z.output<S>, args: A) => N;
  /** What one flag cannot check alone; every error is reported, not the first. */
  rules?: (value: N) => { errors?: string[]; warnings?: string[] };
}

export const ENV_PREFIX = 'SEALWATCH_';
export const CONFIG_VARIABLE = `${ENV_PREFIX}CONFIG`;

type FlagKind = 'switch' | 'list' | 'value' | 'optional-value';

interface FlagInfo {
  name: string;
  kind: FlagKind;
  description: string;
  defaultValue: unknown;
  /** the values an enum flag takes (shell completion offers them) */
  choices?: string[];
}

/** `tick` → `SEALWATCH_TICK`. */
export function envName(flag: string): string {
  return `${ENV_PREFIX}${flag.replaceAll('-', '_').toUpperCase()}`;
}

const camel = (name: string): string => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function unwrap(field: z.ZodType): z.ZodType {
  let inner = field;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional || inner instanceof z.ZodPrefault) {
    inner = inner.unwrap() as z.ZodType;
  }
  return inner instanceof z.ZodPipe ? (inner.in as z.ZodType) : inner;
}

/** What kind of flag a schema field makes, its help text and its default. */
export function flagInfo(name: string, field: z.ZodType): FlagInfo {
  const base = unwrap(field);
  let kind: FlagKind = 'value';
  if (base instanceof z.ZodBoolean) kind = 'switch';
  else if (base instanceof z.ZodArray) kind = 'list';
  else if (base instanceof z.ZodUnion) {
    const options = base.options as z.ZodType[];
    if (options.some((o) => o instanceof z.ZodArray)) kind = 'list';
    else if (options.some((o) => o instanceof z.ZodLiteral && o.values.has(true))) kind = 'optional-value';
  }
  let description: string | undefined;
  let defaultValue: unknown;
  for (let f: z.ZodType = field; ; f = f.unwrap() as z.ZodType) {
    description ??= f.description;
    if ((f instanceof z.ZodDefault || f instanceof z.ZodPrefault) && defaultValue === undefined)
      defaultValue = f.def.defaultValue;
    if (!(f instanceof z.ZodDefault || f instanceof z.ZodOptional || f instanceof z.ZodPrefault)) break;
  }
  let choices: string[] | undefined;
  const item = base instanceof z.ZodUnion ? (base.options as z.ZodType[])[0] : base;
  if (item instanceof z.ZodEnum) choices = item.options.map(String);
  return { name, kind, description: description ?? '', defaultValue, ...(choices ? { choices } : {}) };
}

export function flagInfos(schema: z.ZodObject): FlagInfo[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => flagInfo(name, field));
}

const collect = (value: string, previous: unknown): string[] => [
  ...(Array.isArray(previous) ? (previous as string[]) : []),
  value,
];

const specs = new WeakMap<Command, FlagSpec<z.ZodObject, unknown, unknown>>();

/** The flag spec `addFlags` declared on `command`, if any (tests check every command has one). */
export function flagSpecOf(command: Command): FlagSpec<z.ZodObject, unknown, unknown> | undefined {
  return specs.get(command);
}

/** Declares the schema's flags on `cmd` (and `--config` when the spec takes a config file). */
export function addFlags<S extends z.ZodObject, N, A>(cmd: Command, spec: FlagSpec<S, N, A>): Command {
  specs.set(cmd, spec as FlagSpec<z.ZodObject, unknown, unknown>);
  const values = (spec.values ?? {}) as Record<string, string | undefined>;
  for (const info of flagInfos(spec.schema)) {
    const value = values[info.name] ?? 'value';
    const notes = [
      info.kind === 'list' ? 'repeatable' : undefined,
      info.defaultValue === undefined ||
      typeof info.defaultValue === 'boolean' ||
      (Array.isArray(info.defaultValue) && info.defaultValue.length === 0)
        ? undefined
        : `default: ${typeof info.defaultValue === 'object' ? JSON.stringify(info.defaultValue) : String(info.defaultValue as string | number)}`,
      spec.env ? `env: ${envName(info.name)}` : undefined,
    ].filter(Boolean);
    const help = `${info.description}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
    if (info.kind === 'switch') {
      // a switch that is on by default is turned off; one without a default can be said either way
      if (info.defaultValue !== true) cmd.addOption(new Option(`--${info.name}`, help));
      if (info.defaultValue !== false)
        cmd.addOption(new Option(`--no-${info.name}`, info.defaultValue === true ? help : `not --${info.name}`));
    } else if (info.kind === 'list') {
      // `<files...>` takes several values after one flag; any other list repeats the flag
      const option = new Option(`--${info.name} <${value}>`, help);
      cmd.addOption(value.endsWith('...') ? option : option.argParser(collect));
    } else if (info.kind === 'optional-value') {
      cmd.addOption(new Option(`--${info.name} [${value}]`, help));
    } else {
      cmd.addOption(new Option(`--${info.name} <${value}>`, help));
    }
  }
  if (spec.configFile) {
    cmd.addOption(
      new Option(
        '--config <file>',
        `YAML file of flags (keys are the long flags without --); flags and ${ENV_PREFIX}* variables override it (env: ${CONFIG_VARIABLE})`,
      ),
    );
  }
  return cmd;
}

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off)$/i;

/** A variable's text as the flag's raw value, or a problem. */
function fromEnv(info: FlagInfo, text: string): { value: unknown } | { problem: string } {
  if (info.kind === 'switch') {
    if (TRUE.test(text)) return { value: true };
    if (FALSE.test(text)) return { value: false };
    return { problem: `"${text}" is not true or false (1/0, yes/no, on/off)` };
  }
  if (info.kind === 'optional-value' && TRUE.test(text)) return { value: true };
  return { value: info.kind === 'list' ? [text] : text };
}

/** The `--config` file's mapping, with a problem per key that is not a flag of this command. */
function readConfigFile(
  file: string,
  io: CommandIo,
  command: Command,
  known: ReadonlySet<string>,
): { values: Record<string, unknown>; problems: string[] } {
  const raw = parseYaml(readTextFile(resolve(io.cwd, file), file), file);
  if (raw === null || raw === undefined) return { values: {}, problems: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { values: {}, problems: [`${file}: expected a mapping of flag names to values`] };
  }
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (known.has(key)) values[key] = value;
    else
      problems.push(
        `${file}: ${key}: unknown option (keys are the long flags of \`sealwatch ${command.name()}\` without --)`,
      );
  }
  return { values, problems };
}

/**
 * The flags of `command` as its spec (given to addFlags) parses them, with `args` (its positional arguments) for
 * normalize. Throws one UsageError listing every problem; prints the rules' warnings.
 */
export function readFlags<S extends z.ZodObject, N, A>(
  command: Command,
  spec: FlagSpec<S, N, A>,
  io: CommandIo,
  ...args: A extends undefined ? [] : [A]
): N {
  if (specs.get(command) !== (spec as unknown)) throw new Error(`readFlags: the flags of ${command.name()} differ`);
  const infos = flagInfos(spec.schema);
  const values: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const problems: string[] = [];
  const configFile = spec.configFile
    ? ((command.getOptionValue('config') as string | undefined) ?? (io.env[CONFIG_VARIABLE] || undefined))
    : undefined;
  const config =
    configFile === undefined
      ? { values: {}, problems: [] }
      : readConfigFile(configFile, io, command, new Set(infos.map((i) => i.name)));
  problems.push(...config.problems);
  for (const info of infos) {
    const attribute = camel(info.name);
    const variable = envName(info.name);
    const text = spec.env ? io.env[variable] : undefined;
    if (command.getOptionValueSource(attribute) === 'cli') {
      const value: unknown = command.getOptionValue(attribute);
      values[info.name] = value;
      origin[info.name] = value === false ? `--no-${info.name}` : `--${info.name}`;
    } else if (text !== undefined && text !== '') {
      const read = fromEnv(info, text);
      origin[info.name] = variable;
      if ('problem' in read) problems.push(`${variable}: ${read.problem}`);
      else values[info.name] = read.value;
    } else if (info.name in config.values) {
      values[info.name] = config.values[info.name];
      origin[info.name] = `${configFile}: ${info.name}`;
    }
  }
  const parsed = spec.schema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      const where = origin[name] ?? `--${name}`;
      const inner = issue.path.length > 1 ? `${formatPath(issue.path.slice(1))}: ` : '';
      const missing = values[name] === undefined && /^Invalid input/.test(issue.message);
      problems.push(missing ? `--${name} is required` : `${where}: ${inner}${issueMessage(issue)}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw usage(problems);
  const value = spec.normalize ? spec.normalize(parsed.data, args[0] as A) : (parsed.data as N);
  const checked = spec.rules?.(value) ?? {};
  if (checked.errors !== undefined && checked.errors.length > 0) throw usage(checked.errors);
  for (const warning of checked.warnings ?? []) io.log.warn(warning);
  return value;
}

function usage(problems: string[]): UsageError {
  return new UsageError('BAD_ARGUMENT', problems[0] ?? 'invalid flags', { problems });
}
