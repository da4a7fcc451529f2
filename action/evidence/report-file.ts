import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { ConfigError } from '../../shared/errors/index.ts';
import { readFileBytes } from '../../shared/config/index.ts';

export interface ReportFile {
  /** Absolute path. */
  path: string;
  /** The name the user knows it by (relative to cwd). */
  source: string;
  text: string;
  sha256: string;
}

/** The report's JSON, or a ConfigError naming the file when it is not JSON. */
export function parseJsonReport(file: ReportFile): unknown {
  try {
    return JSON.parse(file.text) as unknown;
  } catch (error) {
    throw new ConfigError(
      'PARSE',
      `${file.source}: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The largest report read (256 MiB): scanner output for a big image is tens of MB. */
export const REPORT_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Reads a report; its digest is over the file's bytes (what `sha256sum` prints), not over the text decoded
 * from them, so a BOM or a byte that is not UTF-8 still gives the digest of the file that was sealed.
 */
export function readReportFile(path: string, cwd: string): ReportFile {
  const abs = resolve(cwd, path);
  const source = relative(cwd, abs) || abs;
  const bytes = readFileBytes(abs, source, REPORT_MAX_BYTES);
  return { path: abs, source, text: bytes.toString('utf8'), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Expands file globs (picomatch syntax, `**` included) relative to cwd, sorted, without
 * duplicates. A pattern without glob characters must name an existing file; a glob that matches
 * nothing is a ConfigError (a misspelt path must not pass silently as "no tests").
 */
export function expandGlobs(patterns: readonly string[], cwd: string, flag: string): string[] {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const scan = picomatch.scan(pattern);
    if (!scan.isGlob) {
      const abs = resolve(cwd, pattern);
      out.add(abs);
      continue;
    }
    const base = resolve(cwd, scan.base === '' ? '.' : scan.base);
    const isMatch = picomatch(scan.glob, { dot: false });
    const found = walk(base).filter((file) => isMatch(relative(base, file).split(sep).join('/')));
    if (found.length === 0) throw new ConfigError('NOT_FOUND', `${flag} ${pattern}: no file matches`);
    for (const f of found) out.add(f);
  }
  return [...out].sort();
}

function walk(dir: string, depth = 0): string[] {
  if (depth > 32) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const name of names) {
    if (name === 'node_modules' || name === '.git') continue;
    const full = join(dir, name);
    let st;
    try {
      st = statSync(full);
    } catch {
      continue;
    }
    if (st.isDirectory()) files.push(...walk(full, depth + 1));
    else if (st.isFile()) files.push(full);
  }
  return files;
}
