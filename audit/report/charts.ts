import { escapeHtml as h } from './escape.ts';
import { num } from './text.ts';

/**
 * Inline SVG charts for the HTML report: no script, no font or image fetch, nothing the report's
 * Content-Security-Policy forbids. Each chart has a fixed coordinate system (`viewBox`) and scales
 * to the page width, so it prints at the width of the paper and nothing in it (the legend above
 * all) can fall outside its box, whatever the number of bars. Every label is escaped here.
 */

const WIDTH = 960;
const FONT = 11;
/** A conservative width per character at FONT, for laying out legends and labels. */
const CHAR_W = 6.6;

export interface Segment {
  key: string;
  value: number;
}

export interface StackedBar {
  /** Axis label (shown for every n-th bar when they are many). */
  label: string;
  /** Tooltip prefix, e.g. the full day. */
  title: string;
  segments: Segment[];
}

export interface LegendItem {
  key: string;
  label: string;
  color: string;
}

function svgOpen(height: number, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${h(label)}" viewBox="0 0 ${WIDTH} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" font-family="system-ui,sans-serif" font-size="${FONT}">`;
}

function clipText(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, Math.max(1, maxChars - 1))}…` : text;
}

/** Legend rows under a chart: items flow left to right and wrap; returns the markup and its height. */
function legend(items: readonly LegendItem[], top: number): { svg: string; height: number } {
  const parts: string[] = [];
  const rowH = 16;
  let x = 0;
  let y = top;
  for (const item of items) {
    const text = clipText(item.label, 40);
    const w = 14 + text.length * CHAR_W + 16;
    if (x > 0 && x + w > WIDTH) {
      x = 0;
      y += rowH;
    }
    parts.push(
      `<rect x="${x}" y="${y}" width="10" height="10" fill="${item.color}"/><text x="${x + 14}" y="${y + 9}">${h(text)}</text>`,
    );
    x += w;
  }
  return { svg: parts.join(''), height: items.length === 0 ? 0 : y - top + rowH };
}

function niceMax(max: number): number {
  if (max <= 2) return 2;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

/** Vertical stacked bars over time buckets, segments colored by the legend's keys. */
export function stackedBarChart(options: {
  label: string;
  bars: readonly StackedBar[];
  legend: readonly LegendItem[];
}): string {
  const { bars } = options;
  const colors = new Map(options.legend.map((l) => [l.key, l.color]));
  const left = 44;
  const right = 8;
  const top = 12;
  const plotH = 200;
  const axisH = 48;
  const plotW = WIDTH - left - right;
  const slot = plotW / Math.max(1, bars.length);
  const barW = Math.max(1, Math.min(40, slot * 0.75));
  const max = niceMax(Math.max(0, ...bars.map((b) => b.segments.reduce((s, x) => s + x.value, 0))));
  const yOf = (v: number): number => top + plotH - (v / max) * plotH;
  const maxLabels = Math.floor(plotW / 28);
  const every = Math.max(1, Math.ceil(bars.length / maxLabels));
  const parts: string[] = [];
  for (const v of [0, max / 2, max].filter((t) => Number.isInteger(t))) {
    const y = yOf(v).toFixed(1);
    parts.push(
      `<line x1="${left}" y1="${y}" x2="${WIDTH - right}" y2="${y}" stroke="${v === 0 ? '#333' : '#ddd'}"/>`,
      `<text x="${left - 4}" y="${(yOf(v) + 4).toFixed(1)}" text-anchor="end">${formatCount(v)}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let base = 0;
    let total = 0;
    for (const seg of bar.segments) {
      if (seg.value <= 0) continue;
      const y0 = yOf(base);
      const y1 = yOf(base + seg.value);
      parts.push(
        `<rect x="${x.toFixed(2)}" y="${y1.toFixed(2)}" width="${barW.toFixed(2)}" height="${Math.max(0.5, y0 - y1).toFixed(2)}" fill="${colors.get(seg.key) ?? '#999'}"><title>${h(`${bar.title} ${seg.key}: ${seg.value}`)}</title></rect>`,
      );
      base += seg.value;
      total += seg.value;
    }
    if (total > 0 && barW >= 14) {
      parts.push(
        `<text x="${(x + barW / 2).toFixed(2)}" y="${(yOf(total) - 3).toFixed(2)}" text-anchor="middle">${total}</text>`,
      );
    }
    if (i % every === 0) {
      const cx = (x + barW / 2).toFixed(2);
      const cy = top + plotH + 12;
      parts.push(
        `<text x="${cx}" y="${cy}" text-anchor="end" transform="rotate(-45 ${cx} ${cy})">${h(clipText(bar.label, 10))}</text>`,
      );
    }
  });
  const key = legend(options.legend, top + plotH + axisH);
  const height = top + plotH + axisH + key.height + 4;
  return `${svgOpen(height, options.label)}${parts.join('')}${key.svg}</svg>`;
}

export interface HorizontalBar {
  label: string;
  value: number;
}

/** Horizontal bars, one row per item, longest first as given; labels cut to fit their column. */
export function horizontalBarChart(options: { label: string; rows: readonly HorizontalBar[]; color: string }): string {
  const { rows } = options;
  const rowH = 20;
  const labelW = 360;
  const valueW = 70;
  const plotW = WIDTH - labelW - valueW;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const parts = rows.map((row, i) => {
    const y = i * rowH;
    const w = Math.max(1, (row.value / max) * plotW);
    return (
      `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end"><title>${h(row.label)}</title>${h(clipText(row.label, Math.floor((labelW - 10) / CHAR_W)))}</text>` +
      `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(2)}" height="${rowH - 6}" fill="${options.color}"/>` +
      `<text x="${(labelW + w + 4).toFixed(2)}" y="${y + 14}">${formatCount(row.value)}</text>`
    );
  });
  return `${svgOpen(Math.max(rowH, rows.length * rowH) + 4, options.label)}${parts.join('')}</svg>`;
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? num(value) : value.toFixed(1);
}
