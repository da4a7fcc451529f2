import type { Event } from '../../shared/events/index.ts';
// The plain scale: a reading thread renders without loading zod.
import { SEVERITY_LABELS, severityLabel, type SeverityLabel } from '../../shared/severity/scale.ts';
import { horizontalBarChart, stackedBarChart, type LegendItem, type StackedBar } from './charts.ts';
import { escapeHtml as h } from './escape.ts';
import { connectionSummary, containerSummary, outcomeOf, processSummary } from './event-details.ts';
import { describeIntegrity } from './integrity.ts';
import { describeBadLines } from './read-events.ts';
import type { ReportRenderer } from './renderer.ts';
import {
  describeResponses,
  groupHeading,
  isResponse,
  type BucketSummary,
  type ReportSummary,
  type RuleSummary,
} from './summary.ts';
import { num, plural } from './text.ts';
import type { TopList } from './top-counter.ts';
import { describeWindow } from './window.ts';

const LABELS_DESC = [...SEVERITY_LABELS].reverse();
const COLOR: Record<SeverityLabel, string> = {
  critical: '#b91c1c',
  high: '#ea580c',
  medium: '#ca8a04',
  low: '#2563eb',
  info: '#6b7280',
};
/** Rules in the by-rule chart: the most frequent get a color each, the rest one grey. */
const RULE_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const OTHER_RULES = '(other rules)';
const OTHER_COLOR = '#b0b0b0';

const CSS = `
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#111;-webkit-print-color-adjust:exact;print-color-adjust:exact}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}
td.n,th.n{text-align:right;white-space:nowrap}
td.detail{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
td.time{white-space:nowrap}
.sev{font-weight:600;color:#fff;padding:0 .3rem;border-radius:3px;white-space:nowrap}
${SEVERITY_LABELS.map((l) => `.sev-${l}{background:${COLOR[l]}}`).join('\n')}
.integrity{border:2px solid;border-radius:6px;padding:.5rem .8rem;margin:.8rem 0}
.integrity p{margin:0;font-weight:600}.integrity ul{margin:.3rem 0 0;padding-left:1.2rem}
.integrity-verified{border-color:#15803d;background:#f0fdf4}
.integrity-failed{border-color:#b91c1c;background:#fef2f2}
.integrity-not-checked{border-color:#9ca3af;background:#f9fafb}
.figures{display:flex;flex-wrap:wrap;gap:.6rem;margin:.8rem 0;padding:0;list-style:none}
.figures li{border:1px solid #ccc;border-radius:6px;padding:.3rem .7rem;min-width:8rem}
.figures strong{display:block;font-size:1.4rem}
.meta li{margin:.1rem 0}
.tables{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
table.summary{width:auto;min-width:16rem}
th{white-space:nowrap}
.chart{margin:.4rem 0 1rem;break-inside:avoid}
figure.chart h3{margin-top:1.2rem}
.chart svg{display:block;max-width:100%;height:auto}
tr.response td{background:#f8fafc}
.note{color:#555;font-size:.9em}
@page{size:A4;margin:14mm 12mm}
@media print{
body{margin:0;max-width:none;padding:0;font-size:10px}
h2{break-after:avoid}h3{break-after:avoid}
tr,.integrity,.figures,.chart,table.summary{break-inside:avoid}
thead{display:table-header-group}
a{color:inherit;text-decoration:none}
section.events{break-before:page}
td.detail{font-size:9px}
}
`;

function renderBadge(score: number): string {
  const label = severityLabel(score);
  return `<span class="sev sev-${label}">${score} ${label}</span>`;
}

/** Each score's badge (the schema allows the integers 0–10), made once. */
const BADGES = Array.from({ length: 11 }, (_, score) => renderBadge(score));

function sevBadge(score: number): string {
  return BADGES[score] ?? renderBadge(score);
}

function ruleAnchor(index: number): string {
  return `rule-${index}`;
}

function ruleTitle(rule: RuleSummary): string {
  return rule.id === '' ? '(no rule)' : `${h(rule.id)}: ${h(rule.name)}`;
}

/** The time buckets the charts use: hours when every alert falls within two days, else days. */
function timeline(summary: ReportSummary): { unit: 'hour' | 'day'; buckets: BucketSummary[] } {
  if (summary.hours !== undefined && summary.days.length <= 2) return { unit: 'hour', buckets: summary.hours };
  return { unit: 'day', buckets: summary.days };
}

function bucketLabel(unit: 'hour' | 'day', bucket: BucketSummary, spansYears: boolean): string {
  if (unit === 'hour') return `${bucket.start.slice(11, 13)}:00`;
  return spansYears ? bucket.start : bucket.start.slice(5);
}

function charts(summary: ReportSummary): string {
  const { unit, buckets } = timeline(summary);
  if (buckets.length === 0) return '<p>No alerts in the window.</p>';
  const spansYears = buckets[0]!.start.slice(0, 4) !== buckets[buckets.length - 1]!.start.slice(0, 4);
  const first = buckets[0]!.start.slice(0, 10);
  const last = buckets[buckets.length - 1]!.start.slice(0, 10);
  const per = unit === 'hour' ? `hour (UTC), ${first === last ? first : `${first} to ${last}`}` : 'day (UTC)';
  const bar = (bucket: BucketSummary, segments: { key: string; value: number }[]): StackedBar => ({
    label: bucketLabel(unit, bucket, spansYears),
    title: unit === 'hour' ? `${bucket.start}:00Z` : bucket.start,
    segments,
  });
  const bySeverity = stackedBarChart({
    label: `alerts per ${per} by severity`,
    bars: buckets.map((b) =>
      bar(
        b,
        SEVERITY_LABELS.map((l) => ({ key: l, value: b.bySeverity[l] })),
      ),
    ),
    legend: LABELS_DESC.map((l) => ({ key: l, label: l, color: COLOR[l] })),
  });
  const ranked = summary.rules
    .filter((r) => r.alerts > 0)
    .sort((a, b) => b.alerts - a.alerts || (a.id < b.id ? -1 : 1));
  const colored = ranked.slice(0, RULE_COLORS.length);
  const coloredIds = new Set(colored.map((r) => r.id));
  const ruleLegend: LegendItem[] = colored.map((r, i) => ({
    key: r.id,
    label: r.id === '' ? '(no rule)' : r.id,
    color: RULE_COLORS[i]!,
  }));
  if (ranked.length > colored.length) ruleLegend.push({ key: OTHER_RULES, label: OTHER_RULES, color: OTHER_COLOR });
  const byRule = stackedBarChart({
    label: `alerts per ${per} by rule`,
    bars: buckets.map((b) => {
      const other = Object.entries(b.byRule).reduce((sum, [id, c]) => (coloredIds.has(id) ? sum : sum + c), 0);
      return bar(b, [
        ...colored.map((r) => ({ key: r.id, value: b.byRule[r.id] ?? 0 })),
        { key: OTHER_RULES, value: other },
      ]);
    }),
    legend: ruleLegend,
  });
  return [
    `<figure class="chart"><h3>Alerts per ${per}, by severity</h3>${bySeverity}</figure>`,
    `<figure class="chart"><h3>Alerts per ${per}, by rule</h3>${byRule}</figure>`,
    topChart('Top processes', 'process', summary.topProcesses, '#4b5563'),
    topChart('Top destinations', 'destination', summary.topDestinations, '#0e7490'),
  ].join('\n');
}

/** The values alerts name most often (process, destination), as horizontal bars. */
function topChart(title: string, what: string, list: TopList, color: string): string {
  if (list.top.length === 0)
    return `<figure class="chart"><h3>${title}</h3><p class="note">No alert names a ${what}.</p></figure>`;
  const note =
    list.maxError > 0
      ? `counts are lower bounds (at most ${num(list.maxError)} below the true count): more than ${num(list.distinct)} distinct values`
      : `${plural(list.distinct, 'distinct value')}`;
  return (
    `<figure class="chart"><h3>${title}</h3>${horizontalBarChart({ label: `alerts by ${what}`, rows: list.top.map((t) => ({ label: t.key, value: t.count })), color })}` +
    `<p class="note">${h(note)}</p></figure>`
  );
}

function integrityBox(summary: ReportSummary): string {
  const text = describeIntegrity(summary.integrity);
  const details = text.details.length > 0 ? `<ul>${text.details.map((d) => `<li>${h(d)}</li>`).join('')}</ul>` : '';
  return `<div class="integrity integrity-${text.verdict}" id="integrity"><p>${h(text.headline)}</p>${details}</div>`;
}

function header(summary: ReportSummary): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Self-contained and inert: no scripts, no network, nothing but our inline styles and images.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>sealwatch audit report</title>',
    `<style>${CSS}</style></head><body>`,
    '<h1>sealwatch audit report</h1>',
    integrityBox(summary),
    '<ul class="figures">',
    `<li>alerts<strong id="alerts">${num(summary.alerts)}</strong></li>`,
    `<li>responses (kills, stops)<strong id="responses">${num(summary.responses)}</strong></li>`,
    `<li>events in report<strong id="total">${num(summary.total)}</strong></li>`,
    '</ul>',
    '<ul class="meta">',
    `<li>Window: ${h(describeWindow(summary.window))}</li>`,
    `<li>Filters: ${summary.filters.length > 0 ? summary.filters.map(h).join('; ') : 'none'}</li>`,
  ];
  for (const input of summary.inputs) {
    const bad = input.badLines > 0 ? `, <strong>${h(describeBadLines(input))}</strong>` : ', 0 bad lines';
    out.push(`<li>Input: ${h(input.file)}${input.gzip ? ' (gzip)' : ''}: ${plural(input.events, 'event')}${bad}</li>`);
  }
  out.push(
    `<li>Events in report: ${num(summary.total)} (${plural(summary.alerts, 'alert')}, ${plural(summary.responses, 'response')}, ${num(summary.others)} other); ${num(summary.excluded)} outside the window or filters</li>`,
  );
  if (summary.first !== undefined) out.push(`<li>First: ${h(summary.first)}, last: ${h(summary.last ?? '')}</li>`);
  out.push('</ul>', '<h2>Charts</h2>', charts(summary), '<h2>Summary</h2>', '<div class="tables">');
  out.push(
    '<table id="summary" class="summary"><thead><tr><th>severity</th><th class="n">alerts</th></tr></thead><tbody>',
  );
  for (const label of LABELS_DESC) {
    out.push(
      `<tr><td><span class="sev sev-${label}">${label}</span></td><td class="n">${num(summary.bySeverity[label])}</td></tr>`,
    );
  }
  out.push(
    '</tbody></table>',
    '<table class="summary"><thead><tr><th>outcome</th><th class="n">events</th></tr></thead><tbody>',
  );
  for (const [outcome, count] of Object.entries(summary.byOutcome)) {
    out.push(`<tr><td>${h(outcome)}</td><td class="n">${num(count)}</td></tr>`);
  }
  out.push('</tbody></table>', '</div>', '<h2>Rules</h2>');
  out.push(
    '<table id="rules"><thead><tr><th>rule</th><th class="n">alerts</th><th>responses</th><th>max severity</th><th>first</th><th>last</th></tr></thead><tbody>',
  );
  summary.rules.forEach((rule, i) => {
    out.push(
      `<tr><td><a href="#${ruleAnchor(i)}">${ruleTitle(rule)}</a></td><td class="n">${num(rule.alerts)}</td><td>${h(describeResponses(rule.responses))}</td><td>${rule.alerts > 0 ? sevBadge(rule.maxSeverity) : ''}</td><td class="time">${h(rule.first)}</td><td class="time">${h(rule.last)}</td></tr>`,
    );
  });
  out.push('</tbody></table>', '<section class="events"><h2>Events by rule</h2>');
  return `${out.join('\n')}\n`;
}

export function createHtmlRenderer(): ReportRenderer {
  let groupIndex = 0;
  return {
    groupByRule: true,
    separator: '',
    begin: header,
    groupStart: (rule) => {
      const id = ruleAnchor(groupIndex++);
      return (
        `<h3 id="${id}">Rule ${ruleTitle(rule)} (${groupHeading(rule)})</h3>\n` +
        '<table class="events"><thead><tr><th>time</th><th>severity</th><th>message</th><th>process</th><th>connection</th><th>container</th><th>outcome</th></tr></thead><tbody>\n'
      );
    },
    event: (e: Event) =>
      `<tr${isResponse(e) ? ' class="response"' : ''}><td class="time">${h(e['@timestamp'])}</td><td>${sevBadge(e.event.severity)}</td><td>${h(e.message)}</td><td class="detail">${h(processSummary(e))}</td><td class="detail">${h(connectionSummary(e))}</td><td>${h(containerSummary(e))}</td><td>${h(outcomeOf(e))}</td></tr>\n`,
    groupEnd: () => '</tbody></table>\n',
    end: () =>
      '</section>\n<footer><p class="note">Generated by sealwatch audit report.</p></footer>\n</body></html>\n',
  };
}
