import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ConfigError } from '../../shared/errors/index.ts';
import type { TestSuiteSummary } from '../../shared/seal/index.ts';
import type { ReportFile } from './report-file.ts';

export interface TestReport {
  file: ReportFile;
  format: 'junit' | 'xunit';
  suites: TestSuiteSummary[];
  passedTests: string[];
  failedTests: string[];
  skippedTests: string[];
}

type Node = Record<string, unknown>;
const ARRAYS = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped', 'assembly', 'collection', 'test']);

/**
 * JUnit XML (Ant/Maven surefire/Jest/pytest: `<testsuites>`/`<testsuite>`/`<testcase>` with
 * `<failure>`, `<error>`, `<skipped>`; nested suites) and xUnit.net v2 XML (`<assemblies>`/
 * `<assembly>`/`<collection>`/`<test result="Pass|Fail|Skip">`). Counts come from the test
 * cases, not from the summary attributes (which tools fill inconsistently).
 * Malformed XML is a ConfigError naming the file, line and column.
 */
export function parseTestReport(file: ReportFile, isSecurity: (suite: string) => boolean): TestReport {
  const valid = XMLValidator.validate(file.text);
  if (valid !== true) {
    throw new ConfigError('PARSE', `${file.source}:${valid.err.line}:${valid.err.col}: invalid XML (${valid.err.msg})`);
  }
  let doc: Node;
  try {
    doc = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      isArray: (name) => ARRAYS.has(name),
      processEntities: true,
      htmlEntities: true,
    }).parse(file.text) as Node;
  } catch (error) {
    // external entities, nesting past the parser's limit, entity expansion: a hostile report, one line
    throw new ConfigError(
      'PARSE',
      `${file.source}: invalid XML (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const report: TestReport = { file, format: 'junit', suites: [], passedTests: [], failedTests: [], skippedTests: [] };
  if (isNode(doc.assemblies) || isNode(doc.assembly) || Array.isArray(doc.assembly)) {
    report.format = 'xunit';
    const assemblies = isNode(doc.assemblies) ? list(doc.assemblies.assembly) : list(doc.assembly);
    for (const assembly of assemblies) readXunitAssembly(assembly, report, isSecurity);
  } else if (isNode(doc.testsuites) || doc.testsuite !== undefined) {
    const roots = isNode(doc.testsuites) ? list(doc.testsuites.testsuite) : list(doc.testsuite);
    for (const suite of roots) readJunitSuite(suite, '', report, isSecurity);
  } else {
    throw new ConfigError(
      'INVALID',
      `${file.source}: not a JUnit or xUnit report (root element must be <testsuites>, <testsuite> or <assemblies>)`,
    );
  }
  return report;
}

function emptySuite(name: string, durationSeconds: number, isSecurity: (s: string) => boolean): TestSuiteSummary {
  return { name, tests: 0, passed: 0, failed: 0, errored: 0, skipped: 0, durationSeconds, security: isSecurity(name) };
}

function readJunitSuite(suite: Node, parent: string, report: TestReport, isSecurity: (s: string) => boolean): void {
  const name = str(suite['@_name']) || parent || '(unnamed suite)';
  const summary = emptySuite(name, num(suite['@_time']), isSecurity);
  for (const tc of list(suite.testcase)) {
    const testName = [str(tc['@_classname']), str(tc['@_name'])].filter((s) => s !== '').join('.') || '(unnamed test)';
    const full = `${name} › ${testName}`;
    summary.tests += 1;
    if (list(tc.error).length > 0 || tc.error === '') {
      summary.errored += 1;
      report.failedTests.push(full);
    } else if (list(tc.failure).length > 0 || tc.failure === '') {
      summary.failed += 1;
      report.failedTests.push(full);
    } else if (tc.skipped !== undefined) {
      summary.skipped += 1;
      report.skippedTests.push(full);
    } else {
      summary.passed += 1;
      report.passedTests.push(full);
    }
  }
  if (summary.tests > 0 || list(suite.testsuite).length === 0) report.suites.push(summary);
  for (const child of list(suite.testsuite)) readJunitSuite(child, name, report, isSecurity);
}

function readXunitAssembly(assembly: Node, report: TestReport, isSecurity: (s: string) => boolean): void {
  const assemblyName = str(assembly['@_name']);
  for (const collection of list(assembly.collection)) {
    const name = str(collection['@_name']) || assemblyName || '(unnamed collection)';
    const summary = emptySuite(name, num(collection['@_time']), isSecurity);
    for (const test of list(collection.test)) {
      const full = `${name} › ${str(test['@_name']) || '(unnamed test)'}`;
      summary.tests += 1;
      const result = str(test['@_result']).toLowerCase();
      if (result === 'pass') {
        summary.passed += 1;
        report.passedTests.push(full);
      } else if (result === 'skip' || result === 'notrun') {
        summary.skipped += 1;
        report.skippedTests.push(full);
      } else if (result === 'fail') {
        summary.failed += 1;
        report.failedTests.push(full);
      } else {
        summary.errored += 1;
        report.failedTests.push(full);
      }
    }
    report.suites.push(summary);
  }
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function list(v: unknown): Node[] {
  if (Array.isArray(v)) return v.map((x) => (isNode(x) ? x : {}));
  return isNode(v) ? [v] : [];
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}
function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(str(v).replace(/,/g, ''));
  return Number.isFinite(n) && n >= 0 ? n : 0;
}
