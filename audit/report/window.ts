import { UsageError } from '../../shared/errors/index.ts';

/** The time window of a report: `from` inclusive, `to` exclusive, both epoch milliseconds. */
export interface ReportWindow {
  from?: number;
  to?: number;
  /** `--since` as the user gave it (e.g. "30d"); when set, the window was resolved against `resolvedAt`. */
  since?: string;
  resolvedAt?: number;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w`, `45s` → milliseconds. */
export function parseDuration(text: string, flag = '--since'): number {
  const match = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (!match) throw new UsageError('BAD_ARGUMENT', `${flag}: "${text}" is not a duration like 30d, 12h, 90m, 2w`);
  const amount = Number(match[1]);
  const unit = UNIT_MS[match[2] ?? ''] ?? 0;
  if (amount <= 0) throw new UsageError('BAD_ARGUMENT', `${flag}: "${text}" must be greater than zero`);
  return amount * unit;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `--from`/`--to` accept a date (`2026-11-20`, UTC) or a full ISO 8601 time. A date-only `--to`
 * includes that whole day (the window ends at the next midnight UTC).
 */
export function parseInstant(text: string, flag: '--from' | '--to'): number {
  const dateOnly = DATE_ONLY.test(text);
  const iso = dateOnly ? `${text}T00:00:00.000Z` : text;
  if (!dateOnly && !/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    throw new UsageError(
      'BAD_ARGUMENT',
      `${flag}: "${text}" is not an ISO 8601 date (2026-11-20 or 2026-11-20T10:00:00Z)`,
    );
  }
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new UsageError('BAD_ARGUMENT', `${flag}: "${text}" is not a valid date`);
  return dateOnly && flag === '--to' ? ms + UNIT_MS.d! : ms;
}

export function resolveWindow(flags: { since?: string; from?: string; to?: string }, now: () => Date): ReportWindow {
  if (flags.since !== undefined && (flags.from !== undefined || flags.to !== undefined)) {
    throw new UsageError('CONFLICT', '--since cannot be combined with --from/--to; use one or the other');
  }
  if (flags.since !== undefined) {
    const span = parseDuration(flags.since);
    const resolvedAt = now().getTime();
    return { from: resolvedAt - span, to: resolvedAt, since: flags.since, resolvedAt };
  }
  const window: ReportWindow = {};
  if (flags.from !== undefined) window.from = parseInstant(flags.from, '--from');
  if (flags.to !== undefined) window.to = parseInstant(flags.to, '--to');
  if (window.from !== undefined && window.to !== undefined && window.from >= window.to) {
    throw new UsageError('CONFLICT', `--from ${flags.from} is not before --to ${flags.to}`);
  }
  return window;
}

export function describeWindow(window: ReportWindow): string {
  const from = window.from === undefined ? 'the beginning' : new Date(window.from).toISOString();
  const to = window.to === undefined ? 'the end' : new Date(window.to).toISOString();
  const since =
    window.since !== undefined && window.resolvedAt !== undefined
      ? ` (--since ${window.since}, resolved at ${new Date(window.resolvedAt).toISOString()})`
      : '';
  return `${from} to ${to}${since}`;
}
