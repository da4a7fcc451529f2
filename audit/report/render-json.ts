import type { Event } from '../../shared/events/index.ts';
import type { ReportSummary } from './summary.ts';
import type { ReportRenderer } from './renderer.ts';
import { describeWindow } from './window.ts';

export function summaryJson(summary: ReportSummary): Record<string, unknown> {
  const { window, ...rest } = summary;
  return {
    window: {
      from: window.from === undefined ? null : new Date(window.from).toISOString(),
      to: window.to === undefined ? null : new Date(window.to).toISOString(),
      ...(window.since !== undefined ? { since: window.since } : {}),
      ...(window.resolvedAt !== undefined ? { resolvedAt: new Date(window.resolvedAt).toISOString() } : {}),
      text: describeWindow(window),
    },
    ...rest,
  };
}

/** One JSON document: `{"report": {summary}, "events": [...]}`, events in time order, streamed. */
export function createJsonRenderer(): ReportRenderer {
  let first = true;
  return {
    groupByRule: false,
    begin: (summary) => `{"report":${JSON.stringify(summaryJson(summary))},"events":[\n`,
    groupStart: () => '',
    event: (e: Event) => {
      const text = `${first ? '' : ',\n'}${JSON.stringify(e)}`;
      first = false;
      return text;
    },
    groupEnd: () => '',
    end: () => '\n]}\n',
  };
}
