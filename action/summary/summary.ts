import type { GateResult } from '../policy/index.ts';
import type { TestSuiteSummary, VulnSeverityLabel } from '../../shared/seal/index.ts';

/** What a seal run reports: the same object for people (text), machines (--json) and GitHub (job summary). */
export interface SealSummary {
  image: string;
  sealed: boolean;
  imageId?: string;
  tags: string[];
  identity: string;
  keyHint: string;
  statements: number;
  resealed: boolean;
  /** a dev.sealwatch.seal label named a layer that is not a seal layer: ignored, the layer kept */
  forgedLabel?: boolean;
  /** what the profile files hold that is valid but likely a mistake (`profile.yaml: network.listen[1]: …`) */
  warnings?: string[];
  bundlePath?: string;
  pushed: string[];
  provenance: { ci: string; repository?: string; commit?: string; ref?: string; runUrl?: string; baseImage?: string };
  tests: {
    total: number;
    passed: number;
    failed: number;
    errored: number;
    skipped: number;
    suites: number;
    securitySuites: string[];
    reports: number;
  };
  vulns: Record<VulnSeverityLabel, number> & { reports: number };
  sarif: { reports: number; error: number; warning: number; note: number };
  inventory: {
    files: number;
    executables: number;
    setuid: number;
    setgid: number;
    worldWritableDirs: number;
    packages: number;
    users: number;
    sshd: string[];
  };
  profile?: { sources: string[]; processes: number; listen: string[] };
  gates: GateResult[];
}

export function testTotals(suites: readonly TestSuiteSummary[], reports: number): SealSummary['tests'] {
  const sum = (k: 'tests' | 'passed' | 'failed' | 'errored' | 'skipped') => suites.reduce((n, s) => n + s[k], 0);
  return {
    total: sum('tests'),
    passed: sum('passed'),
    failed: sum('failed'),
    errored: sum('errored'),
    skipped: sum('skipped'),
    suites: suites.length,
    securitySuites: [...new Set(suites.filter((s) => s.security).map((s) => s.name))],
    reports,
  };
}

/** Control characters (ANSI escapes, CR) removed from text we did not write ourselves. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '�');
}

/** Markdown table cell: no pipes, no HTML, no newlines. */
export function cell(text: string): string {
  return plain(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/([`*_[\]])/g, '\\$1');
}

/** Markdown code span in a table cell: no backticks, pipes escaped (GFM), nothing else touched. */
export function code(text: string): string {
  return `\`${plain(text).replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

export interface TextStyle {
  /** ANSI colours only on a TTY; never in Jenkins logs or files. */
  color: boolean;
}

export function formatSummaryText(s: SealSummary, style: TextStyle): string {
  const paint = (code: string, t: string) => (style.color ? `\u001b[${code}m${t}\u001b[0m` : t);
  const ok = (t: string) => paint('32', t);
  const bad = (t: string) => paint('31', t);
  const lines: string[] = [];
  const state = s.sealed ? ok('sealed') : bad('NOT sealed');
  lines.push(`sealwatch seal: ${plain(s.image)} ${state}${s.resealed ? ' (previous seal replaced)' : ''}`);
  if (s.forgedLabel) {
    lines.push(
      '  warning: a dev.sealwatch.seal label named a layer that is not a seal layer; it was ignored (layer kept)',
    );
  }
  for (const w of s.warnings ?? []) lines.push(`  warning: ${plain(w)}`);
  if (s.imageId) lines.push(`  image id:    ${s.imageId}`);
  if (s.tags.length > 0) lines.push(`  tags:        ${s.tags.map(plain).join(', ')}`);
  lines.push(`  identity:    ${s.identity}`);
  lines.push(`  key hint:    ${s.keyHint}`);
  lines.push(`  statements:  ${s.statements}`);
  const p = s.provenance;
  lines.push(
    `  provenance:  ${p.ci}${p.repository ? ` ${plain(p.repository)}` : ''}${p.commit ? `@${p.commit.slice(0, 12)}` : ''}${p.ref ? ` (${plain(p.ref)})` : ''}`,
  );
  if (p.runUrl) lines.push(`  run:         ${plain(p.runUrl)}`);
  if (p.baseImage) lines.push(`  base image:  ${plain(p.baseImage)}`);
  const t = s.tests;
  lines.push(
    `  tests:       ${t.total} in ${t.suites} suites: ${t.passed} passed, ${t.failed > 0 ? bad(`${t.failed} failed`) : '0 failed'}, ${t.errored} errored, ${t.skipped} skipped`,
  );
  if (t.securitySuites.length > 0) lines.push(`  security:    ${t.securitySuites.map(plain).join(', ')}`);
  const v = s.vulns;
  lines.push(
    v.reports === 0
      ? '  vulns:       no scan given'
      : `  vulns:       ${v.critical} critical, ${v.high} high, ${v.medium} medium, ${v.low} low, ${v.unknown} unknown`,
  );
  if (s.sarif.reports > 0) {
    lines.push(`  sarif:       ${s.sarif.error} error, ${s.sarif.warning} warning, ${s.sarif.note} note`);
  }
  const i = s.inventory;
  lines.push(
    `  inventory:   ${i.files} files, ${i.executables} executables, ${i.setuid} setuid, ${i.setgid} setgid, ${i.packages} packages, ${i.users} users`,
  );
  lines.push(`  sshd:        ${i.sshd.length > 0 ? bad(`present (${i.sshd.map(plain).join(', ')})`) : 'absent'}`);
  if (s.profile) {
    lines.push(
      `  profile:     ${s.profile.sources.join('+')}, ${s.profile.processes} processes, listens ${s.profile.listen.join(', ') || 'nothing'}`,
    );
  }
  for (const g of s.gates) {
    lines.push(`  gate ${g.ok ? ok('pass') : bad('FAIL')}: --${g.gate} ${plain(g.rule)}: ${plain(g.reason)}`);
  }
  if (s.bundlePath) lines.push(`  bundle:      ${plain(s.bundlePath)}`);
  for (const tag of s.pushed) lines.push(`  pushed:      ${plain(tag)}`);
  return lines.join('\n') + '\n';
}

/** GitHub job summary (Markdown). */
export function formatSummaryMarkdown(s: SealSummary): string {
  const rows: [string, string][] = [
    ['Image', code(s.image)],
    ['Status', s.sealed ? '✅ sealed' : '❌ not sealed'],
    ['Identity', `\`${s.identity}\``],
    ['Key hint', code(s.keyHint)],
    ['Statements', String(s.statements)],
    [
      'Tests',
      `${s.tests.total} (${s.tests.passed} passed, ${s.tests.failed} failed, ${s.tests.errored} errored, ${s.tests.skipped} skipped)`,
    ],
    ['Security suites', s.tests.securitySuites.map(cell).join(', ') || '—'],
    [
      'Vulnerabilities',
      s.vulns.reports === 0
        ? 'no scan'
        : `${s.vulns.critical} critical, ${s.vulns.high} high, ${s.vulns.medium} medium, ${s.vulns.low} low`,
    ],
    [
      'Executables',
      `${s.inventory.executables} (${s.inventory.setuid} setuid); sshd ${s.inventory.sshd.length > 0 ? 'present' : 'absent'}`,
    ],
  ];
  if (s.imageId) rows.splice(2, 0, ['Image id', `\`${s.imageId}\``]);
  if (s.warnings !== undefined) rows.push(['Warnings', s.warnings.map(cell).join('<br>')]);
  const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
  const gates =
    s.gates.length === 0
      ? ''
      : `\n\n| Gate | Rule | Result |\n|---|---|---|\n${s.gates
          .map((g) => `| ${g.gate} | ${code(g.rule)} | ${g.ok ? '✅' : '❌'} ${cell(g.reason)} |`)
          .join('\n')}`;
  return `### sealwatch seal\n\n${table}${gates}\n`;
}
