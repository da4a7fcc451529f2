import type { Event } from '../../shared/events/index.ts';
import type { ReportSummary, RuleSummary } from './summary.ts';

/**
 * A report format. `event` is pure: the runner renders each event as it reads it and sorts the
 * rendered text. It then writes begin → (groupStart → events joined by `separator` → groupEnd)… →
 * end, so a renderer never holds the events. Every attacker-controlled string must be escaped by
 * the renderer for its own format.
 */
export interface ReportRenderer {
  /** true: events arrive grouped by rule (rule id, then time); false: in time order, in one group. */
  readonly groupByRule: boolean;
  /** Written between two events of a group. */
  readonly separator: string;
  begin(summary: ReportSummary): string;
  groupStart(rule: RuleSummary): string;
  event(event: Event): string;
  groupEnd(rule: RuleSummary): string;
  end(summary: ReportSummary): string;
}

export const REPORT_FORMATS = ['md', 'html', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
