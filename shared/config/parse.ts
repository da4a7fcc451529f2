import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, errnoCode } from '../errors/index.ts';
import { formatIssues } from './format-issues.ts';

/**
 * The config pattern (after changesets): schema → normalize → cross-field rules.
 * - the zod schema validates shape and fills defaults (every key has `.describe()` and a default);
 * - `normalize` turns the parsed value into the form the code uses;
 * - `rules` checks what one field cannot check alone, returning errors and warnings as lines.
 * Errors are collected, never thrown one at a time, so a user sees every problem in one run.
 */
export interface ConfigSpec<S extends z.ZodType, N = z.output<S>> {
  schema: S;
  normalize?: (value: z.output<S>) => N;
  rules?: (value: N) => { errors?: string[]; warnings?: string[] };
}

export interface ParseResult<N> {
  value?: N;
  errors: string[];
  warnings: string[];
}

export function parseConfig<S extends z.ZodType, N = z.output<S>>(
  spec: ConfigSpec<S, N>,
  raw: unknown,
  source: string,
): ParseResult<N> {
  const parsed = spec.schema.safeParse(raw);
  if (!parsed.success) return { errors: formatIssues(parsed.error.issues, source), warnings: [] };
  const value = spec.normalize ? spec.normalize(parsed.data) : (parsed.data as N);
  const checked = spec.rules?.(value) ?? {};
  const errors = (checked.errors ?? []).map((line) => `${source}: ${line}`);
  const warnings = (checked.warnings ?? []).map((line) => `${source}: ${line}`);
  return errors.length > 0 ? { errors, warnings } : { value, errors, warnings };
}

/** Reads a file as UTF-8 with a ConfigError naming the file when it cannot be read. */
export function readTextFile(file: string, source = file): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') throw new ConfigError('NOT_FOUND', `${source}: no such file`, { cause: error });
    if (code === 'EISDIR')
      throw new ConfigError('UNREADABLE', `${source}: is a directory, not a file`, { cause: error });
    throw new ConfigError('UNREADABLE', `${source}: cannot read (${code ?? String(error)})`, { cause: error });
  }
}

/** Parses YAML (or JSON, which is YAML) text; syntax errors name the file, line and column. */
export function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const where = pos ? `:${pos.line}:${pos.col}` : '';
      return `${source}${where}: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new ConfigError('PARSE', problems[0] ?? `${source}: invalid YAML`, { problems });
  }
  return doc.toJS() as unknown;
}

/** Reads, parses and validates a YAML/JSON config file; throws one ConfigError listing every problem. */
export function loadConfigFile<S extends z.ZodType, N = z.output<S>>(
  spec: ConfigSpec<S, N>,
  file: string,
  /** How to name the file in messages (as the user wrote it); default the path read. */
  source = file,
): { value: N; warnings: string[] } {
  const raw = parseYaml(readTextFile(file, source), source);
  const result = parseConfig(spec, raw, source);
  if (result.value === undefined) {
    throw new ConfigError('INVALID', result.errors[0] ?? `${source}: invalid`, { problems: result.errors });
  }
  return { value: result.value, warnings: result.warnings };
}
