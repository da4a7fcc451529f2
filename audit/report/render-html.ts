import type { Event } from '../../shared/events/index.ts';
import { SEVERITY_LABELS, severityLabel, type SeverityLabel } from '../../shared/severity/index.ts';
import { escapeHtml as h } from './escape.ts';
import { connectionSummary, containerSummary, outcomeOf, processSummary } from './event-details.ts';
import type { ReportRenderer } from './renderer.ts';
import type { DaySummary, ReportSummary, RuleSummary } from './summary.ts';
import { describeWindow } from './window.ts';

const LABELS_DESC = [...SEVERITY_LABELS].reverse();
const COLOR: Record<SeverityLabel, string> = {
  critical: '#b91c1c',
  high: '#ea580c',
  medium: '#ca8a04',
  low: '#2563eb',
  info: '#6b7280',
};

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#111}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}
td.detail{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.sev{font-weight:600;color:#fff;padding:0 .3rem;border-radius:3px;white-space:nowrap}
${SEVERITY_LABELS.map((l) => `.sev-${l}{background:${COLOR[l]}}`).join('\n')}
.meta li{margin:.1rem 0}
.chart{overflow-x:auto}
@media print{body{margin:0;font-size:11px}h2{break-after:avoid}tr{break-inside:avoid}
.chart svg{max-width:100%;height:auto}.sev{color:#000;border:1px solid #000;background:none}}
`;

function chart(days: DaySummary[]): string {
  if (days.length === 0) return '<p>No events in the window.</p>';
  const barW = 22;
  const gap = 8;
  const plotH = 180;
  const left = 40;
  const top = 20;
  const width = left + days.length * (barW + gap) + 20;
  const height = top + plotH + 60;
  const max = Math.max(1, ...days.map((d) => d.total));
  const every = Math.max(1, Math.ceil(days.length / 30));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="events per day by severity" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<line x1="${left}" y1="${top + plotH}" x2="${width - 10}" y2="${top + plotH}" stroke="#333"/>`,
    `<text x="${left - 4}" y="${top + 4}" text-anchor="end">${max}</text>`,
    `<text x="${left - 4}" y="${top + plotH}" text-anchor="end">0</text>`,
  ];
  days.forEach((day, i) => {
    const x = left + gap / 2 + i * (barW + gap);
    let y = top + plotH;
    for (const label of SEVERITY_LABELS) {
      const count = day.bySeverity[label];
      if (count === 0) continue;
      const barH = Math.max(1, (count / max) * plotH);
      y -= barH;
      parts.push(
        `<rect x="${x}" y="${y.toFixed(2)}" width="${barW}" height="${barH.toFixed(2)}" fill="${COLOR[label]}"><title>${day.day} ${label}: ${count}</title></rect>`,
      );
    }
    if (day.total > 0)
      parts.push(`<text x="${x + barW / 2}" y="${(y - 3).toFixed(2)}" text-anchor="middle">${day.total}</text>`);
    if (i % every === 0) {
      parts.push(
        `<text x="${x + barW / 2}" y="${top + plotH + 12}" text-anchor="end" transform="rotate(-45 ${x + barW / 2} ${top + plotH + 12})">${day.day.slice(5)}</text>`,
      );
    }
  });
  LABELS_DESC.forEach((label, i) => {
    const x = left + i * 80;
    parts.push(
      `<rect x="${x}" y="${height - 12}" width="10" height="10" fill="${COLOR[label]}"/><text x="${x + 14}" y="${height - 3}">${label}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function sevBadge(score: number): string {
  const label = severityLabel(score);
  return `<span class="sev sev-${label}">${score} ${label}</span>`;
}

function ruleAnchor(index: number): string {
  return `rule-${index}`;
}

function ruleTitle(rule: RuleSummary): string {
  return rule.id === '' ? '(no rule)' : `${h(rule.id)}: ${h(rule.name)}`;
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
    '<ul class="meta">',
    `<li>Window: ${h(describeWindow(summary.window))}</li>`,
    `<li>Filters: ${summary.filters.length > 0 ? summary.filters.map(h).join('; ') : 'none'}</li>`,
  ];
  for (const input of summary.inputs) {
    const bad =
      input.badLines > 0
        ? `, <strong>${input.badLines} bad line(s) skipped</strong> (line ${input.firstBadLines.join(', ')}${input.badLines > input.firstBadLines.length ? ', …' : ''})`
        : ', 0 bad lines';
    out.push(`<li>Input: ${h(input.file)}${input.gzip ? ' (gzip)' : ''}: ${input.events} event(s)${bad}</li>`);
  }
  out.push(
    `<li>Events in report: <strong id="total">${summary.total}</strong> (${summary.excluded} outside the window or filters)</li>`,
  );
  if (summary.first !== undefined) out.push(`<li>First: ${h(summary.first)}, last: ${h(summary.last ?? '')}</li>`);
  out.push('</ul>', '<h2>Summary</h2>', '<table id="summary"><tr><th>severity</th><th class="n">events</th></tr>');
  for (const label of LABELS_DESC) {
    out.push(
      `<tr><td><span class="sev sev-${label}">${label}</span></td><td class="n">${summary.bySeverity[label]}</td></tr>`,
    );
  }
  out.push('</table>', '<table><tr><th>outcome</th><th class="n">events</th></tr>');
  for (const [outcome, count] of Object.entries(summary.byOutcome)) {
    out.push(`<tr><td>${h(outcome)}</td><td class="n">${count}</td></tr>`);
  }
  out.push('</table>', '<h2>Events per day and severity</h2>', `<div class="chart">${chart(summary.days)}</div>`);
  out.push(
    '<h2>Rules</h2>',
    '<table id="rules"><tr><th>rule</th><th class="n">events</th><th>max severity</th><th>first</th><th>last</th></tr>',
  );
  summary.rules.forEach((rule, i) => {
    out.push(
      `<tr><td><a href="#${ruleAnchor(i)}">${ruleTitle(rule)}</a></td><td class="n">${rule.count}</td><td>${sevBadge(rule.maxSeverity)}</td><td>${h(rule.first)}</td><td>${h(rule.last)}</td></tr>`,
    );
  });
  out.push('</table>');
  return `${out.join('\n')}\n`;
}

export function createHtmlRenderer(): ReportRenderer {
  let groupIndex = 0;
  return {
    groupByRule: true,
    begin: header,
    groupStart: (rule) => {
      const id = ruleAnchor(groupIndex++);
      return (
        `<h2 id="${id}">Rule ${ruleTitle(rule)} (${rule.count} event${rule.count === 1 ? '' : 's'})</h2>\n` +
        '<table class="events"><tr><th>time</th><th>severity</th><th>message</th><th>process</th><th>connection</th><th>container</th><th>outcome</th></tr>\n'
      );
    },
    event: (e: Event) =>
      `<tr><td>${h(e['@timestamp'])}</td><td>${sevBadge(e.event.severity)}</td><td>${h(e.message)}</td><td class="detail">${h(processSummary(e))}</td><td class="detail">${h(connectionSummary(e))}</td><td>${h(containerSummary(e))}</td><td>${h(outcomeOf(e))}</td></tr>\n`,
    groupEnd: () => '</table>\n',
    end: () => '<footer><p>Generated by sealwatch audit report.</p></footer>\n</body></html>\n',
  };
}
