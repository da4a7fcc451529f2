import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseMinSeverity, REPORT_FORMATS, resolveWindow, runReport } from '../../audit/index.ts';
import { UsageError } from '../../shared/errors/index.ts';
import { println, type CliIo } from '../io.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const ReportFlags = z.object({
  events: z.array(z.string().min(1)).min(1),
  format: z.enum(REPORT_FORMATS),
  out: z.string().min(1).optional(),
  since: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  rule: z.array(z.string()).default([]),
  type: z.array(z.string()).default([]),
  category: z.array(z.string()).default([]),
  minSeverity: z.string().optional(),
  image: z.array(z.string()).default([]),
  namespace: z.array(z.string()).default([]),
  progress: z.boolean().optional(),
  now: z.iso.datetime({ offset: true }).optional(),
});

function parseFlags<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const flag = issue ? `--${String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'flags';
  throw new UsageError('BAD_ARGUMENT', `${flag}: ${issue?.message ?? 'invalid'}`);
}

export function registerAudit(program: Command, io: CliIo, now: () => Date = () => new Date()): void {
  const audit = program
    .command('audit')
    .description(
      'answers for auditors and the SOC: event reports, an image story, the diff of two builds, the latest build',
    );

  audit
    .command('report')
    .description(
      'report on events from JSONL files written by `watch --output file://…` (gzip accepted); streamed, deterministic',
    )
    .requiredOption('--events <files...>', 'event JSONL files (plain or gzip)')
    .option('--format <format>', `output format: ${REPORT_FORMATS.join(', ')}`, 'md')
    .option('--out <file>', 'write the report here (atomically) instead of stdout')
    .option('--since <duration>', 'only the last 30d, 12h, 90m, 2w (resolved against now; printed in the report)')
    .option('--from <date>', 'start (inclusive): 2026-11-01 or an ISO 8601 time')
    .option('--to <date>', 'end (exclusive; a date-only value includes that day)')
    .option('--rule <id>', 'only this rule id (repeatable)', collect)
    .option('--type <type>', 'only this event.type or event.action (repeatable)', collect)
    .option('--category <category>', 'only this event.category or rule category (repeatable)', collect)
    .option('--min-severity <level>', 'info, low, medium, high, critical or 0–10')
    .option(
      '--image <ref>',
      'only events from this image name (with or without tag), id or digest (repeatable)',
      collect,
    )
    .option('--namespace <ns>', 'only events from this orchestrator namespace (repeatable)', collect)
    .option('--now <time>', 'resolve --since against this ISO 8601 time instead of the clock (reproducible reports)')
    .option('--progress', 'show progress on stderr even when it is not a TTY')
    .option('--no-progress', 'never show progress')
    .action(async (raw: Record<string, unknown>) => {
      const flags = parseFlags(ReportFlags, raw);
      const window = resolveWindow(flags, flags.now !== undefined ? () => new Date(flags.now!) : now);
      const showProgress = flags.progress ?? io.stderr.isTTY === true;
      const summary = await runReport({
        files: flags.events.map((f) => ({ path: resolve(io.cwd, f), source: f })),
        filter: {
          window,
          rules: flags.rule,
          types: flags.type,
          categories: flags.category,
          minSeverity: flags.minSeverity === undefined ? 0 : parseMinSeverity(flags.minSeverity),
          images: flags.image,
          namespaces: flags.namespace,
        },
        format: flags.format,
        ...(flags.out !== undefined ? { outFile: resolve(io.cwd, flags.out) } : {}),
        stdout: io.stdout,
        ...(showProgress ? { progress: io.stderr } : {}),
      });
      const bad = summary.inputs.reduce((n, i) => n + i.badLines, 0);
      if (flags.out !== undefined) {
        println(
          io.stderr,
          `wrote ${flags.out}: ${summary.total} event(s)${bad > 0 ? `, ${bad} bad line(s) skipped` : ''}`,
        );
      } else if (bad > 0) {
        println(io.stderr, `warning: ${bad} bad line(s) skipped (listed in the report)`);
      }
    });
}
