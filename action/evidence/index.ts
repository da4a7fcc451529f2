export { readReportFile, expandGlobs } from './report-file.ts';
export type { ReportFile } from './report-file.ts';
export { parseTestReport } from './junit.ts';
export type { TestReport } from './junit.ts';
export { parseVulnReport, severityOf } from './vulns.ts';
export type { VulnReport } from './vulns.ts';
export { parseSarif } from './sarif.ts';
