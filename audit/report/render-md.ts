import type { Event } from '../../shared/events/index.ts';
import { SEVERITY_LABELS, severityLabel } from '../../shared/severity/index.ts';
import { escapeMarkdown as md } from './escape.ts';
import { connectionSummary, containerSummary, outcomeOf, processSummary } from './event-details.ts';
import type { ReportRenderer } from './renderer.ts';
import type { ReportSummary, RuleSummary } from './summary.ts';
import { describeWindow } from './window.ts';

const LABELS_DESC = [...SEVERITY_LABELS].reverse();

function ruleTitle(rule: RuleSummary): string {
  return rule.id === '' ? '(no rule)' : `${md(rule.id)}: ${md(rule.name)}`;
}

export function markdownHeader(summary: ReportSummary): string {
  const out: string[] = ['# sealwatch audit report', ''];
  out.push(`- Window: ${md(describeWindow(summary.window))}`);
  out.push(`- Filters: ${summary.filters.length > 0 ? summary.filters.map(md).join('; ') : 'none'}`);
  for (const input of summary.inputs) {
    const bad =
      input.badLines > 0
        ? `, ${input.badLines} bad line(s) skipped (line ${input.firstBadLines.join(', ')}${input.badLines > input.firstBadLines.length ? ', …' : ''})`
        : ', 0 bad lines';
    out.push(`- Input: ${md(input.file)}${input.gzip ? ' (gzip)' : ''}: ${input.events} event(s)${bad}`);
  }
  out.push(`- Events in report: ${summary.total} (${summary.excluded} outside the window or filters)`);
  if (summary.first !== undefined) out.push(`- First: ${md(summary.first)}, last: ${md(summary.last ?? '')}`);
  out.push('', '## Summary', '', '| severity | events |', '|---|---:|');
  for (const label of LABELS_DESC) out.push(`| ${label} | ${summary.bySeverity[label]} |`);
  out.push('', '| outcome | events |', '|---|---:|');
  for (const [outcome, count] of Object.entries(summary.byOutcome)) out.push(`| ${md(outcome)} | ${count} |`);
  out.push(
    '',
    '## Events per day',
    '',
    `| day | total | ${LABELS_DESC.join(' | ')} |`,
    `|---|---:|${LABELS_DESC.map(() => '---:').join('|')}|`,
  );
  for (const day of summary.days) {
    out.push(`| ${day.day} | ${day.total} | ${LABELS_DESC.map((l) => day.bySeverity[l]).join(' | ')} |`);
  }
  out.push('', '## Rules', '', '| rule | events | max severity | first | last |', '|---|---:|---|---|---|');
  for (const rule of summary.rules) {
    out.push(
      `| ${ruleTitle(rule)} | ${rule.count} | ${rule.maxSeverity} (${severityLabel(rule.maxSeverity)}) | ${md(rule.first)} | ${md(rule.last)} |`,
    );
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

export function createMarkdownRenderer(): ReportRenderer {
  return {
    groupByRule: true,
    begin: markdownHeader,
    groupStart: (rule) =>
      `## Rule ${ruleTitle(rule)} (${rule.count} event${rule.count === 1 ? '' : 's'})\n\n` +
      '| time | severity | message | process | connection | container | outcome |\n|---|---|---|---|---|---|---|\n',
    event: (e: Event) =>
      `| ${md(e['@timestamp'])} | ${e.event.severity} ${e.sealwatch.severity} | ${md(e.message)} | ${md(processSummary(e))} | ${md(connectionSummary(e))} | ${md(containerSummary(e))} | ${md(outcomeOf(e))} |\n`,
    groupEnd: () => '\n',
    end: () => '',
  };
}
