import { z } from 'zod';
import { ConfigError } from '../../shared/errors/index.ts';
import { formatIssues } from '../../shared/config/index.ts';
import type { SarifSummaryPredicate } from '../../shared/seal/index.ts';
import { parseJsonReport, type ReportFile } from './report-file.ts';

const Level = z.enum(['error', 'warning', 'note', 'none']);
const Sarif = z.looseObject({
  version: z.literal('2.1.0', { message: 'only SARIF 2.1.0 is supported' }),
  runs: z.array(
    z.looseObject({
      tool: z.looseObject({
        driver: z.looseObject({
          name: z.string(),
          version: z.string().optional(),
          semanticVersion: z.string().optional(),
          rules: z
            .array(
              z.looseObject({
                id: z.string(),
                defaultConfiguration: z.looseObject({ level: Level.optional() }).optional(),
              }),
            )
            .optional(),
        }),
      }),
      results: z
        .array(
          z.looseObject({
            ruleId: z.string().optional(),
            ruleIndex: z.number().int().optional(),
            rule: z.looseObject({ id: z.string().optional() }).optional(),
            level: Level.optional(),
          }),
        )
        .nullish(),
    }),
  ),
});

/** SARIF 2.1.0 → summary: tool, version, results by level, rule ids with counts, report digest. */
export function parseSarif(file: ReportFile): SarifSummaryPredicate {
  const raw = parseJsonReport(file);
  const parsed = Sarif.safeParse(raw);
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues, file.source);
    throw new ConfigError('INVALID', problems[0] ?? `${file.source}: not SARIF 2.1.0`, { problems });
  }
  const results = { error: 0, warning: 0, note: 0, none: 0 };
  const rules = new Map<string, { id: string; level: string; count: number }>();
  const first = parsed.data.runs[0]?.tool.driver;
  for (const run of parsed.data.runs) {
    const ruleList = run.tool.driver.rules ?? [];
    for (const r of run.results ?? []) {
      const id =
        r.ruleId ?? r.rule?.id ?? (r.ruleIndex !== undefined ? ruleList[r.ruleIndex]?.id : undefined) ?? '(no rule)';
      const rule = ruleList.find((x) => x.id === id);
      const level = r.level ?? rule?.defaultConfiguration?.level ?? 'warning';
      results[level] += 1;
      const key = `${id}\u0000${level}`;
      const seen = rules.get(key);
      if (seen) seen.count += 1;
      else rules.set(key, { id, level, count: 1 });
    }
  }
  const version = first?.semanticVersion ?? first?.version;
  return {
    report: { name: file.source, digest: { sha256: file.sha256 } },
    tool: { name: first?.name ?? 'unknown', ...(version ? { version } : {}) },
    runs: parsed.data.runs.length,
    results,
    rules: [...rules.values()].sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : 1)),
  };
}
