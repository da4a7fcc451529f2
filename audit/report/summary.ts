import type { Event } from '../../shared/events/index.ts';
import { SEVERITY_LABELS, severityLabel, type SeverityLabel } from '../../shared/severity/index.ts';
import type { InputStats } from './read-events.ts';
import type { ReportWindow } from './window.ts';

export type SeverityCounts = Record<SeverityLabel, number>;

export interface RuleSummary {
  /** `''` for events that carry no rule. */
  id: string;
  name: string;
  count: number;
  maxSeverity: number;
  first: string;
  last: string;
  bySeverity: SeverityCounts;
}

export interface DaySummary {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  total: number;
  bySeverity: SeverityCounts;
}

/** Everything a report says before it lists events. Bounded by the number of rules and days, not events. */
export interface ReportSummary {
  window: ReportWindow;
  filters: string[];
  inputs: InputStats[];
  total: number;
  /** Events read but outside the window or filters. */
  excluded: number;
  bySeverity: SeverityCounts;
  byOutcome: Record<string, number>;
  /** Sorted by rule id (the order of the per-rule tables). */
  rules: RuleSummary[];
  /** Every day from the first to the last event (gaps filled when the span is under a year). */
  days: DaySummary[];
  first?: string;
  last?: string;
}

export function emptySeverityCounts(): SeverityCounts {
  return Object.fromEntries(SEVERITY_LABELS.map((l) => [l, 0])) as SeverityCounts;
}

export const NO_RULE = '';

export function ruleKey(event: Event): string {
  return event.rule?.id ?? NO_RULE;
}

const MAX_FILLED_DAYS = 366;
const DAY_MS = 86_400_000;

/** Accumulates the summary while events stream past; `finish()` sorts everything deterministically. */
export class SummaryBuilder {
  private total = 0;
  private excluded = 0;
  private readonly bySeverity = emptySeverityCounts();
  private readonly byOutcome = new Map<string, number>();
  private readonly rules = new Map<string, RuleSummary>();
  private readonly ruleSpan = new Map<string, { first: number; last: number }>();
  private readonly days = new Map<string, DaySummary>();
  private firstMs = Infinity;
  private lastMs = -Infinity;
  private first = '';
  private last = '';

  exclude(): void {
    this.excluded++;
  }

  add(event: Event, ms: number): void {
    this.total++;
    const label = severityLabel(event.event.severity);
    this.bySeverity[label]++;
    const outcome = event.sealwatch.outcome ?? 'unknown';
    this.byOutcome.set(outcome, (this.byOutcome.get(outcome) ?? 0) + 1);
    const ts = event['@timestamp'];
    if (ms < this.firstMs || (ms === this.firstMs && ts < this.first)) {
      this.firstMs = ms;
      this.first = ts;
    }
    if (ms > this.lastMs || (ms === this.lastMs && ts > this.last)) {
      this.lastMs = ms;
      this.last = ts;
    }
    const key = ruleKey(event);
    let rule = this.rules.get(key);
    if (!rule) {
      rule = {
        id: key,
        name: event.rule?.name ?? '(no rule)',
        count: 0,
        maxSeverity: 0,
        first: ts,
        last: ts,
        bySeverity: emptySeverityCounts(),
      };
      this.rules.set(key, rule);
    }
    rule.count++;
    rule.bySeverity[label]++;
    rule.maxSeverity = Math.max(rule.maxSeverity, event.event.severity);
    const span = this.ruleSpan.get(key) ?? { first: ms, last: ms };
    if (ms < span.first || (ms === span.first && ts < rule.first)) {
      span.first = ms;
      rule.first = ts;
    }
    if (ms > span.last || (ms === span.last && ts > rule.last)) {
      span.last = ms;
      rule.last = ts;
    }
    this.ruleSpan.set(key, span);
    const day = new Date(ms).toISOString().slice(0, 10);
    let daySummary = this.days.get(day);
    if (!daySummary) {
      daySummary = { day, total: 0, bySeverity: emptySeverityCounts() };
      this.days.set(day, daySummary);
    }
    daySummary.total++;
    daySummary.bySeverity[label]++;
  }

  finish(window: ReportWindow, filters: string[], inputs: InputStats[]): ReportSummary {
    const rules = [...this.rules.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const days = this.filledDays();
    const byOutcome = Object.fromEntries([...this.byOutcome.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      window,
      filters,
      inputs,
      total: this.total,
      excluded: this.excluded,
      bySeverity: this.bySeverity,
      byOutcome,
      rules,
      days,
      ...(this.total > 0 ? { first: this.first, last: this.last } : {}),
    };
  }

  private filledDays(): DaySummary[] {
    const present = [...this.days.values()].sort((a, b) => (a.day < b.day ? -1 : 1));
    if (present.length < 2) return present;
    const start = Date.parse(`${present[0]!.day}T00:00:00Z`);
    const end = Date.parse(`${present[present.length - 1]!.day}T00:00:00Z`);
    const span = (end - start) / DAY_MS + 1;
    if (span > MAX_FILLED_DAYS) return present;
    const out: DaySummary[] = [];
    for (let t = start; t <= end; t += DAY_MS) {
      const day = new Date(t).toISOString().slice(0, 10);
      out.push(this.days.get(day) ?? { day, total: 0, bySeverity: emptySeverityCounts() });
    }
    return out;
  }
}
