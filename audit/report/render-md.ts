import type { Event } from '../../shared/events/index.ts';
// The plain scale: a reading thread renders without loading zod.
import { SEVERITY_LABELS, severityLabel } from '../../shared/severity/scale.ts';
import { escapeMarkdown as md } from './escape.ts';
import { connectionSummary, containerSummary, outcomeOf, processSummary } from './event-details.ts';
import { describeIntegrity } from './integrity.ts';
import { describeBadLines } from './read-events.ts';
import type { ReportRenderer } from './renderer.ts';
import { describeResponses, groupHeading, type ReportSummary, type RuleSummary } from './summary.ts';
import { num, plural } from './text.ts';
import type { TopList } from './top-counter.ts';
import { describeWindow } from './window.ts';

const LABELS_DESC = [...SEVERITY_LABELS].reverse();

function ruleTitle(rule: RuleSummary): string {
  return rule.id === '' ? '(no rule)' : `${md(rule.id)}: ${md(rule.name)}`;
}

function topTable(title: string, list: TopList): string[] {
  if (list.top.length === 0) return [];
  const note = list.maxError > 0 ? ` (counts are lower bounds, at most ${list.maxError} below the true count)` : '';
  return [
    '',
    `## ${title}${note}`,
    '',
    '| value | alerts |',
    '|---|---:|',
    ...list.top.map((t) => `| ${md(t.key)} | ${t.count} |`),
  ];
}

export function markdownHeader(summary: ReportSummary): string {
  const integrity = describeIntegrity(summary.integrity);
  const out: string[] = ['# sealwatch audit report', '', `**${md(integrity.headline)}**`];
  for (const line of integrity.details) out.push(`- ${md(line)}`);
  out.push('');
  out.push(`- Window: ${md(describeWindow(summary.window))}`);
  out.push(`- Filters: ${summary.filters.length > 0 ? summary.filters.map(md).join('; ') : 'none'}`);
  for (const input of summary.inputs) {
    const bad = input.badLines > 0 ? `, ${md(describeBadLines(input))}` : ', 0 bad lines';
    out.push(`- Input: ${md(input.file)}${input.gzip ? ' (gzip)' : ''}: ${input.events} event(s)${bad}`);
  }
  out.push(
    `- Events in report: ${summary.total} (${plural(summary.alerts, 'alert')}, ${plural(summary.responses, 'response')}, ${num(summary.others)} other); ${summary.excluded} outside the window or filters`,
  );
  if (summary.first !== undefined) out.push(`- First: ${md(summary.first)}, last: ${md(summary.last ?? '')}`);
  out.push('', '## Summary', '', '| severity | alerts |', '|---|---:|');
  for (const label of LABELS_DESC) out.push(`| ${label} | ${summary.bySeverity[label]} |`);
  out.push('', '| outcome | events |', '|---|---:|');
  for (const [outcome, count] of Object.entries(summary.byOutcome)) out.push(`| ${md(outcome)} | ${count} |`);
  out.push(
    '',
    '## Alerts per day',
    '',
    `| day | total | ${LABELS_DESC.join(' | ')} |`,
    `|---|---:|${LABELS_DESC.map(() => '---:').join('|')}|`,
  );
  for (const day of summary.days) {
    out.push(`| ${day.start} | ${day.total} | ${LABELS_DESC.map((l) => day.bySeverity[l]).join(' | ')} |`);
  }
  out.push(
    ...topTable('Top processes', summary.topProcesses),
    ...topTable('Top destinations', summary.topDestinations),
  );
  out.push(
    '',
    '## Rules',
    '',
    '| rule | alerts | responses | max severity | first | last |',
    '|---|---:|---|---|---|---|',
  );
  for (const rule of summary.rules) {
    out.push(
      `| ${ruleTitle(rule)} | ${rule.alerts} | ${md(describeResponses(rule.responses))} | ${rule.alerts > 0 ? `${rule.maxSeverity} (${severityLabel(rule.maxSeverity)})` : ''} | ${md(rule.first)} | ${md(rule.last)} |`,
    );
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

export function createMarkdownRenderer(): ReportRenderer {
  return {
    groupByRule: true,
    separator: '',
    begin: markdownHeader,
    groupStart: (rule) =>
      `## Rule ${ruleTitle(rule)} (${groupHeading(rule)})\n\n` +
      '| time | severity | message | process | connection | container | outcome |\n|---|---|---|---|---|---|---|\n',
    event: (e: Event) =>
      `| ${md(e['@timestamp'])} | ${e.event.severity} ${e.sealwatch.severity} | ${md(e.message)} | ${md(processSummary(e))} | ${md(connectionSummary(e))} | ${md(containerSummary(e))} | ${md(outcomeOf(e))} |\n`,
    groupEnd: () => '\n',
    end: () => '',
  };
}
