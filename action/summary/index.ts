export { testTotals, plain, cell, formatSummaryText, formatSummaryMarkdown } from './summary.ts';
export type { SealSummary, TextStyle } from './summary.ts';
export { createProgressLine } from './progress.ts';
export type { ProgressLine } from './progress.ts';
