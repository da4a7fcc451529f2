import type { Event } from '../../shared/events/index.ts';
import type { SortRecord } from './external-sort.ts';
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
 * threads: filter it, count it in the summary, render it, and make its sort record. Undefined: the
 * filters leave it out.
 */
export function createPassOne(
  format: ReportFormat,
  filter: EventFilter,
  builder: SummaryBuilder,
): (event: Event, ms: number, fileIndex: number, line: number) => SortRecord | undefined {
  const renderer = RENDERERS[format]();
  return (event, ms, fileIndex, line) => {
    if (!inWindow(ms, filter.window) || !matchesFilter(event, filter)) {
      builder.exclude();
      return undefined;
    }
    builder.add(event, ms);
    return {
      group: renderer.groupByRule ? ruleKey(event) : '',
      ms,
      rank: ROLE_RANK[eventRole(event)],
      id: event.event.id,
      fileIndex,
      line,
      text: renderer.event(event),
    };
  };
}
