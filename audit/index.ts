/**
 * The audit side: answers for auditors and the SOC. Imports only shared/; only cli/ imports it.
 * - report: `audit report --events FILE…` (streamed, filtered event reports in md, html, csv, json)
 */
export { runReport, REPORT_FORMATS, resolveWindow, parseMinSeverity } from './report/index.ts';
export type { ReportFormat, ReportRequest, EventFilter, ReportSummary } from './report/index.ts';
