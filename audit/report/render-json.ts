import type { Event } from '../../shared/events/index.ts';
import { escapeJsonText } from './escape.ts';
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

/**
 * One JSON document: `{"report": {summary}, "events": [...]}`, events in time order, streamed. Each
 * event is the object read, with every field it carried (also those this version does not know).
 */
export function createJsonRenderer(): ReportRenderer {
  return {
    groupByRule: false,
    separator: ',\n',
    begin: (summary) => `{"report":${escapeJsonText(JSON.stringify(summaryJson(summary)))},"events":[\n`,
    groupStart: () => '',
    event: (e: Event) => escapeJsonText(JSON.stringify(e)),
    groupEnd: () => '',
    end: () => '\n]}\n',
  };
}
