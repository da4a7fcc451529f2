export { testTotals, plain, cell, formatSummaryText, formatSummaryMarkdown } from './summary.ts';
export type { SealSummary, TextStyle } from './summary.ts';
