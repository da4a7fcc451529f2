import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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

/**
 * The largest config, profile, policy or key file read (16 MiB): a real one is a few KB. A larger file is one
 * line and exit 2, not minutes of parsing and an exhausted heap.
 */
export const CONFIG_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads a file the user named, at most `maxBytes` (default CONFIG_MAX_BYTES) bytes, with a ConfigError naming
 * the file when it cannot be read or is larger. A FIFO or `/dev/stdin` is read to its end within the cap.
 */
export function readFileBytes(file: string, source = file, maxBytes = CONFIG_MAX_BYTES): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw unreadable(error, source);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new ConfigError('UNREADABLE', `${source}: is a directory, not a file`);
    if (st.isFile() && st.size > maxBytes) throw tooLarge(source, st.size, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw tooLarge(source, undefined, maxBytes);
    }
    return Buffer.concat(chunks, total);
  } catch (error) {
    throw error instanceof ConfigError ? error : unreadable(error, source);
  } finally {
    closeSync(fd);
  }
}

/** readFileBytes as UTF-8 text. */
export function readTextFile(file: string, source = file, maxBytes = CONFIG_MAX_BYTES): string {
  return readFileBytes(file, source, maxBytes).toString('utf8');
}

function tooLarge(source: string, size: number | undefined, maxBytes: number): ConfigError {
  const what = size === undefined ? 'over' : `${size} bytes, over`;
  return new ConfigError('INVALID', `${source}: ${what} the ${maxBytes}-byte limit`);
}

function unreadable(error: unknown, source: string): ConfigError {
  const code = errnoCode(error);
  if (code === 'ENOENT') return new ConfigError('NOT_FOUND', `${source}: no such file`, { cause: error });
  if (code === 'EISDIR')
    return new ConfigError('UNREADABLE', `${source}: is a directory, not a file`, { cause: error });
  return new ConfigError('UNREADABLE', `${source}: cannot read (${code ?? String(error)})`, { cause: error });
}

/** Parses YAML (or JSON, which is YAML) text; syntax errors name the file, line and column. */
export function parseYaml(text: string, source: string): unknown {
  let doc;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    // a stack overflow on absurd nesting: a bad file, not a crash
    throw new ConfigError(
      'PARSE',
      `${source}: cannot parse (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const where = pos ? `:${pos.line}:${pos.col}` : '';
      return `${source}${where}: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new ConfigError('PARSE', problems[0] ?? `${source}: invalid YAML`, { problems });
  }
  try {
    // aliases expanding to more than 100 times their anchors are a "billion laughs" bomb, not a profile
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (error) {
    throw new ConfigError('PARSE', `${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
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
