import type { Event } from '../../shared/events/index.ts';
import type { RecordBatch } from './external-sort.ts';
import { inWindow, matchesFilter, type EventFilter } from './filter.ts';
import { createCsvRenderer } from './render-csv.ts';
import { createHtmlRenderer } from './render-html.ts';
import { createJsonRenderer } from './render-json.ts';
import { createMarkdownRenderer } from './render-md.ts';
import type { ReportFormat, ReportRenderer } from './renderer.ts';
import { eventRole, ruleKey, type EventRole, type SummaryBuilder } from './summary.ts';

export const RENDERERS = {
  md: createMarkdownRenderer,
  html: createHtmlRenderer,
  csv: createCsvRenderer,
  json: createJsonRenderer,
} satisfies Record<ReportFormat, () => ReportRenderer>;

/** Within one millisecond, an alert is listed before the response to it. */
const ROLE_RANK: Record<EventRole, number> = { alert: 0, response: 1, other: 2 };

/**
 * What the report does with each event as it is read, the same in this thread and in the reading
 * threads: filter it, count it in the summary, render it, and add its sort record to `batch`
 * (unless the filters leave it out).
 */
export function createPassOne(
  format: ReportFormat,
  filter: EventFilter,
  builder: SummaryBuilder,
  batch: RecordBatch,
): (event: Event, ms: number, line: number) => void {
  const renderer = RENDERERS[format]();
  return (event, ms, line) => {
    if (!inWindow(ms, filter.window) || !matchesFilter(event, filter)) {
      builder.exclude();
      return;
    }
    builder.add(event, ms);
    const group = renderer.groupByRule ? ruleKey(event) : '';
    batch.add(group, ms, ROLE_RANK[eventRole(event)], event.event.id, line, renderer.event(event));
  };
}
