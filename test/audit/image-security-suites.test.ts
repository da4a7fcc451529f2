import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTestReport, readReportFile } from '../../action/evidence/index.ts';
import { evaluateGates, securitySuiteMatcher } from '../../action/policy/index.ts';
import { testResultPredicate } from '../../action/statements/index.ts';
import { imageStory } from '../../audit/image/index.ts';
import type { TestResultPredicate } from '../../shared/seal/index.ts';

const FIX = join(import.meta.dirname, '../seal/fixtures/reports');

/**
 * "security" suites are one set whoever asks: the seal gate `--require-tests security`, `verify --policy`, and
 * `audit image`. Before, the gate matched suite names containing "security" while the audit counted only
 * suites marked by `--security-suite`, so the same seal passed the gate and showed "security suites: none".
 */
describe('security suites mean one thing in the gate and in audit image', () => {
  const gateAndAudit = (results: TestResultPredicate[]) => {
    const gate = evaluateGates(
      { requireTests: ['security'], denyExecutable: [] },
      {
        testResults: results,
        vulns: [],
        inventory: undefined,
      },
    )[0]!;
    const story = imageStory(
      'app:1',
      { status: 'verified' },
      { testResults: results, vulns: [], sarif: [], runtimeTraces: [] },
    );
    return { gate, audit: story.tests!.securitySuites };
  };

  it('sealed without --security-suite: the suite named "security: …" counts for both', () => {
    const isSecurity = securitySuiteMatcher([]);
    const report = parseTestReport(readReportFile(join(FIX, 'junit-security.xml'), '/'), isSecurity);
    const { gate, audit } = gateAndAudit([testResultPredicate(report)]);
    expect(gate).toMatchObject({ ok: true, reason: '1 suite(s) matching "security" passed (3 tests)' });
    expect(audit).toEqual(['security: dast-smoke']);
  });

  it('a suite marked by --security-suite (named "sast") counts for both, and its failure fails the gate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-security-suites-'));
    writeFileSync(
      join(dir, 'sast.xml'),
      '<testsuite name="sast" tests="2"><testcase name="a"/><testcase name="b"><failure message="x"/></testcase></testsuite>',
    );
    const isSecurity = securitySuiteMatcher(['sast']);
    const results = ['sast.xml', join(FIX, 'junit-security.xml')].map((f) =>
      testResultPredicate(parseTestReport(readReportFile(f, dir), isSecurity)),
    );
    const { gate, audit } = gateAndAudit(results);
    expect(gate.ok).toBe(false);
    expect(gate.reason).toContain('sast: 1 failed');
    expect(audit).toEqual(['sast', 'security: dast-smoke']);
  });

  it('a seal made before (suite not marked, name with "security"): the same answer for both', () => {
    const old: TestResultPredicate = {
      result: 'PASSED',
      configuration: [],
      passedTests: [],
      warnedTests: [],
      failedTests: [],
      suites: [
        {
          name: 'Security scan',
          tests: 1,
          passed: 1,
          failed: 0,
          errored: 0,
          skipped: 0,
          durationSeconds: 0,
          security: false,
        },
      ],
    };
    const { gate, audit } = gateAndAudit([old]);
    expect(gate.ok).toBe(true);
    expect(audit).toEqual(['Security scan']);
  });
});
