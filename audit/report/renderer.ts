import type { Event } from '../../shared/events/index.ts';
import type { ReportSummary, RuleSummary } from './summary.ts';

/**
 * A report format. The runner calls begin → (groupStart → event… → groupEnd)… → end and writes each
 * returned string as it comes, so a renderer never holds the events. Every attacker-controlled
 * string must be escaped by the renderer for its own format.
 */
export interface ReportRenderer {
  /** true: events arrive grouped by rule (rule id, then time); false: in time order, in one group. */
  readonly groupByRule: boolean;
  begin(summary: ReportSummary): string;
  groupStart(rule: RuleSummary): string;
  event(event: Event): string;
  groupEnd(rule: RuleSummary): string;
  end(summary: ReportSummary): string;
}

export const REPORT_FORMATS = ['md', 'html', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
