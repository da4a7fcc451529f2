import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors/index.ts';
import {
  expandGlobs,
  parseSarif,
  parseTestReport,
  parseVulnReport,
  readReportFile,
} from '../../action/evidence/index.ts';
import { evaluateGates, suiteMatcher } from '../../action/policy/index.ts';
import { testResultPredicate } from '../../action/statements/index.ts';
import { detectContext, detectGithub, detectGitlab, detectJenkins } from '../../action/context/index.ts';
import { loadProfiles, buildProfilePredicate } from '../../action/profile/index.ts';
import { parseApkInstalled, parseDpkgStatus, parsePasswd } from '../../action/inventory/index.ts';
import type { InventoryPredicate } from '../../shared/seal/index.ts';

const FIX = join(import.meta.dirname, 'fixtures');
const isSecurity = (name: string) => suiteMatcher('security')(name);

describe('evidence parsers', () => {
  it('JUnit: counts by test case across suites, unicode names, failure and skip', () => {
    const report = parseTestReport(readReportFile('reports/junit-unit.xml', FIX), isSecurity);
    expect(report.format).toBe('junit');
    expect(report.suites.map((s) => [s.name, s.tests, s.passed, s.failed, s.skipped])).toEqual([
      ['unit: parser', 4, 2, 1, 1],
      ['unit: api', 2, 2, 0, 0],
    ]);
    expect(report.passedTests).toContain('unit: parser › parser handles.ünïcödé names — 日本語');
    expect(report.failedTests).toEqual(['unit: parser › parser handles.deeply nested <xml>']);
    expect(testResultPredicate(report).result).toBe('FAILED');
    expect(report.suites.every((s) => !s.security)).toBe(true);
  });

  it('xUnit.net v2: collections become suites; security suites are marked', () => {
    const report = parseTestReport(readReportFile('reports/xunit-sast.xml', FIX), isSecurity);
    expect(report.format).toBe('xunit');
    expect(report.suites).toEqual([
      expect.objectContaining({ name: 'security: sast rules', tests: 3, passed: 2, failed: 1, security: true }),
    ]);
  });

  it('malformed XML names the file, line and column', () => {
    expect(() => parseTestReport(readReportFile('reports/broken.xml', FIX), isSecurity)).toThrow(
      /^reports\/broken\.xml:4:1: invalid XML \(Expected closing tag/,
    );
    try {
      parseTestReport(readReportFile('reports/broken.xml', FIX), isSecurity);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
    }
  });

  it('Trivy and Grype: severities counted, report digest kept', () => {
    const trivy = parseVulnReport(readReportFile('trivy.json', FIX));
    expect(trivy.scanner).toBe('trivy');
    expect(trivy.predicate.summary.counts).toEqual({ unknown: 0, low: 1, medium: 1, high: 1, critical: 1 });
    expect(trivy.predicate.scanner.result.find((r) => r.id === 'CVE-2024-45490')?.severity).toContainEqual({
      method: 'CVSS_V3',
      score: '9.8',
    });
    expect(trivy.predicate.summary.report.digest?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const grype = parseVulnReport(readReportFile('grype.json', FIX));
    expect(grype.scanner).toBe('grype');
    expect(grype.predicate.scanner.version).toBe('0.79.3');
    expect(grype.predicate.summary.counts).toEqual({ unknown: 0, low: 1, medium: 0, high: 1, critical: 0 });
  });

  it('SARIF 2.1.0: results by level (rule default, explicit level, ruleIndex) and rule ids', () => {
    const sarif = parseSarif(readReportFile('semgrep.sarif', FIX));
    expect(sarif.tool).toEqual({ name: 'Semgrep OSS', version: '1.85.0' });
    expect(sarif.results).toEqual({ error: 2, warning: 1, note: 1, none: 0 });
    expect(sarif.rules[0]).toEqual({ id: 'javascript.express.security.audit.xss', level: 'error', count: 2 });
  });

  it('a report that is not JSON or not the format is a ConfigError naming the file', () => {
    expect(() => parseVulnReport(readReportFile('reports/junit-unit.xml', FIX))).toThrow(
      /^reports\/junit-unit\.xml: not JSON/,
    );
    expect(() => parseSarif(readReportFile('trivy.json', FIX))).toThrow(/^trivy\.json: (version|runs)/);
  });

  it('globs expand sorted; a glob matching nothing is an error', () => {
    const files = expandGlobs(['reports/**/*.xml'], FIX, '--junit');
    expect(files.map((f) => f.slice(FIX.length + 1))).toEqual([
      'reports/broken.xml',
      'reports/junit-security.xml',
      'reports/junit-unit.xml',
      'reports/xunit-sast.xml',
    ]);
    expect(() => expandGlobs(['nope/**/*.xml'], FIX, '--junit')).toThrow(
      /--junit nope\/\*\*\/\*\.xml: no file matches/,
    );
  });
});

describe('policy gates', () => {
  const unit = testResultPredicate(parseTestReport(readReportFile('reports/junit-unit.xml', FIX), isSecurity));
  const dast = testResultPredicate(parseTestReport(readReportFile('reports/junit-security.xml', FIX), isSecurity));
  const trivy = parseVulnReport(readReportFile('trivy.json', FIX)).predicate;
  const inventory = {
    executables: [{ path: '/usr/sbin/sshd' }, { path: '/bin/busybox' }],
    symlinks: [{ path: '/bin/sh', target: '/bin/busybox' }],
  } as unknown as InventoryPredicate;

  it('require-tests: passes only when matching suites ran and passed', () => {
    const gates = evaluateGates(
      { requireTests: ['dast', 'unit: parser', 'e2e'], denyExecutable: [] },
      { testResults: [unit, dast], vulns: [], inventory },
    );
    expect(gates.map((g) => g.ok)).toEqual([true, false, false]);
    expect(gates[1]!.reason).toMatch(/unit: parser: 1 failed/);
    expect(gates[2]!.reason).toBe('no test suite matching "e2e" ran');
  });

  it('max-severity and deny-executable', () => {
    const gates = evaluateGates(
      { requireTests: [], maxSeverity: 'high', denyExecutable: ['*/sshd', '/bin/nc'] },
      { testResults: [], vulns: [trivy], inventory },
    );
    expect(gates.map((g) => [g.gate, g.ok])).toEqual([
      ['max-severity', false],
      ['deny-executable', false],
      ['deny-executable', true],
    ]);
    expect(gates[0]!.reason).toBe('vulnerabilities above high: 1 critical');
    expect(gates[1]!.reason).toBe('denied executable present: /usr/sbin/sshd');
  });
});

describe('CI context detection (pure functions of env)', () => {
  it('GitHub Actions', () => {
    const ctx = detectGithub({
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'org/app',
      GITHUB_SHA: '3f2c1a',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_RUN_ID: '812',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_WORKFLOW_REF: 'org/app/.github/workflows/ci.yml@refs/heads/main',
    });
    expect(ctx).toMatchObject({
      ci: 'github',
      repository: 'https://github.com/org/app',
      commit: '3f2c1a',
      runUrl: 'https://github.com/org/app/actions/runs/812/attempts/2',
      builderId: 'https://github.com/org/app/.github/workflows/ci.yml@refs/heads/main',
    });
  });

  it('Jenkins and GitLab', () => {
    expect(
      detectJenkins({
        JENKINS_URL: 'https://ci.example/',
        BUILD_URL: 'https://ci.example/job/app/42/',
        JOB_NAME: 'app',
        BUILD_NUMBER: '42',
        GIT_COMMIT: 'abc',
        GIT_URL: 'https://git.example/app.git',
        GIT_BRANCH: 'origin/main',
        NODE_NAME: 'agent-3',
      }),
    ).toMatchObject({
      ci: 'jenkins',
      ref: 'refs/heads/main',
      runUrl: 'https://ci.example/job/app/42/',
      runner: 'agent-3',
    });
    expect(
      detectGitlab({
        GITLAB_CI: 'true',
        CI_PROJECT_URL: 'https://gitlab.example/g/app',
        CI_COMMIT_SHA: 'def',
        CI_COMMIT_TAG: 'v1',
      }),
    ).toMatchObject({ ci: 'gitlab', ref: 'refs/tags/v1', commit: 'def' });
  });

  it('generic falls back to what git says', () => {
    expect(
      detectContext({}, { commit: 'c0ffee', ref: 'refs/heads/dev', remote: 'https://git.example/x.git' }),
    ).toMatchObject({
      ci: 'generic',
      commit: 'c0ffee',
      repository: 'https://git.example/x.git',
    });
  });
});

describe('profile merge and inventory parsers', () => {
  it('declared + learned merged; exact exe paths get sha256 from the inventory, through symlinks', () => {
    const { declared, learned } = loadProfiles({
      declared: { path: join(FIX, 'profile.yaml'), source: 'profile.yaml' },
      learned: { path: join(FIX, 'learned.yaml'), source: 'learned.yaml' },
    });
    const inventory = {
      executables: [{ path: '/bin/busybox', sha256: 'a'.repeat(64) }],
      symlinks: [{ path: '/bin/sh', target: '/bin/busybox' }],
    } as unknown as InventoryPredicate;
    const p = buildProfilePredicate(declared, learned, inventory)!;
    expect(p.sources).toEqual(['declared', 'learned']);
    expect(p.profile.metadata.source).toBe('merged');
    const httpd = p.profile.processes.find((x) => x.name === 'httpd')!;
    expect(httpd.users).toEqual(['app', 'root']);
    expect(httpd.sha256).toBe('a'.repeat(64));
    expect(p.profile.processes.find((x) => x.exe === '/bin/sh')!.sha256).toBe('a'.repeat(64));
    expect(p.profile.processes.find((x) => x.exe === '/bin/sleep')!.sha256).toBeUndefined();
    expect(p.profile.network.listen.map((l) => l.port)).toEqual([8080, 9090]);
    expect(p.profile.resources).toEqual({ memoryMiB: { max: 256 }, processes: { max: 8 } });
  });

  it('dpkg status, apk db, passwd (bad records skipped)', () => {
    expect(
      parseDpkgStatus(
        'Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: broken\n',
      ),
    ).toEqual([{ manager: 'dpkg', name: 'openssh-server', version: '1:9.2p1-2', arch: 'amd64' }]);
    expect(parseApkInstalled('C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r5\n')).toEqual([
      { manager: 'apk', name: 'musl', version: '1.2.4-r2', arch: 'x86_64' },
      { manager: 'apk', name: 'busybox', version: '1.36.1-r5' },
    ]);
    expect(
      parsePasswd('root:x:0:0:root:/root:/bin/sh\nbad line\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n'),
    ).toEqual([
      { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' },
      { name: 'sshd', uid: 100, gid: 65534, home: '/run/sshd', shell: '/usr/sbin/nologin' },
    ]);
  });
});
