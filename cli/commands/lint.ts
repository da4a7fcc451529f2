import { z } from 'zod';
import { ConfigError } from '../../shared/errors/index.ts';
import { ExitWith, EXIT } from '../exit-codes.ts';
import type { FlagSpec } from '../flags.ts';
import { println, type CommandIo } from '../io.ts';

/** The flags of `profile lint` and `policy lint`. */
const LintFlags = z
  .object({
    json: z
      .boolean()
      .default(false)
      .describe('print {ok, files: [{file, ok, summary, problems, warnings}]} as JSON on stdout'),
  })
  .strict();
export const LINT_FLAGS: FlagSpec<typeof LintFlags> = { schema: LintFlags };

/** One linted file: `ok`, or the problems that make it invalid (each naming the file and field). */
export interface LintResult {
  file: string;
  ok: boolean;
  /** what `ok` says about a valid file: `3 custom rule(s), 1 disabled` */
  summary?: string;
  problems: string[];
  warnings: string[];
}

/**
 * `profile lint` and `policy lint`: every file loaded with `load` (which throws a ConfigError listing its problems),
 * reported as `FILE: ok` lines and problem lines, or with `json` as one object on stdout
 * (`{ok, files: [{file, ok, summary?, problems, warnings}]}`). Exit 2 when any file is invalid.
 */
export function lintFiles(
  files: readonly string[],
  load: (file: string) => { warnings: string[]; summary?: string },
  options: { json: boolean; io: CommandIo },
): void {
  const { io } = options;
  const results: LintResult[] = files.map((file) => {
    try {
      const { warnings, summary } = load(file);
      return { file, ok: true, ...(summary !== undefined ? { summary } : {}), problems: [], warnings };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return { file, ok: false, problems: [...error.problems], warnings: [] };
    }
  });
  const problems = results.flatMap((r) => r.problems);
  if (options.json) {
    println(io.stdout, JSON.stringify({ ok: problems.length === 0, files: results }, null, 2));
    if (problems.length > 0) throw new ExitWith(EXIT.usage);
    return;
  }
  for (const r of results) {
    for (const w of r.warnings) io.log.warn(w);
    if (r.ok) println(io.stdout, `${r.file}: ok${r.summary !== undefined ? ` (${r.summary})` : ''}`);
  }
  if (problems.length > 0) throw new ConfigError('INVALID', `${problems.length} problem(s) found`, { problems });
}
