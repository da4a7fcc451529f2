import picomatch from 'picomatch';
import { z } from 'zod';
import type { InventoryPredicate, TestResultPredicate, VulnSeverityLabel, VulnsPredicate } from '../seal/index.ts';

/** The policy gates, shared by `seal` (flags) and `verify --policy` (a YAML/JSON file of the same keys). */
export const MaxSeverity = z.enum(['low', 'medium', 'high', 'critical']);
export type MaxSeverity = z.infer<typeof MaxSeverity>;

export const PolicySpec = z
  .object({
    requireTests: z
      .array(z.string().min(1))
      .default([])
      .describe('suite name patterns (glob, or a case-insensitive substring) that must have run and passed'),
    maxSeverity: MaxSeverity.optional().describe('highest vulnerability severity allowed'),
    denyExecutable: z
      .array(z.string().min(1))
      .default([])
      .describe('executable path globs that must not be in the image, e.g. */sshd'),
  })
  .strict();
export type PolicySpec = z.infer<typeof PolicySpec>;

export interface GateResult {
  gate: 'require-tests' | 'max-severity' | 'deny-executable';
  /** The flag value this result is about. */
  rule: string;
  ok: boolean;
  /** One line: why it passed or failed. */
  reason: string;
}

export interface GateEvidence {
  testResults: readonly TestResultPredicate[];
  vulns: readonly VulnsPredicate[];
  inventory: InventoryPredicate | undefined;
}

const ORDER: VulnSeverityLabel[] = ['unknown', 'low', 'medium', 'high', 'critical'];

export function suiteMatcher(pattern: string): (name: string) => boolean {
  if (picomatch.scan(pattern).isGlob) {
    const m = picomatch(pattern, { nocase: true });
    return (name) => m(name);
  }
  const needle = pattern.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

/**
 * What "security suite" means, one answer for the seal gate, `verify --policy`, the Action's summary and `audit
 * image`: a suite marked by a `--security-suite` pattern when sealed, or whose name contains "security". In a
 * gate, the pattern `security` (any case) means exactly these suites.
 */
export function isSecuritySuite(suite: { name: string; security?: boolean }): boolean {
  return suite.security === true || /security/i.test(suite.name);
}

/** The `--security-suite` patterns as the seal marks suites (isSecuritySuite's first half). */
export function securitySuiteMatcher(patterns: readonly string[]): (name: string) => boolean {
  const matchers = patterns.map(suiteMatcher);
  return (name) => isSecuritySuite({ name }) || matchers.some((m) => m(name));
}

// Executable path globs: "/usr/sbin/sshd" and "/usr/**" are anchored at the root; "*" + "/sshd"
// and "sshd" mean "in any directory" (a leading "*" + "/" spans any depth, as people mean it).
export function executableMatcher(glob: string): (path: string) => boolean {
  const pattern = glob.startsWith('/') ? glob : `**/${glob.replace(/^\*\//, '')}`;
  return picomatch(pattern, { dot: true });
}

export function evaluateGates(policy: PolicySpec, evidence: GateEvidence): GateResult[] {
  const results: GateResult[] = [];
  const suites = evidence.testResults.flatMap((t) => t.suites);
  for (const pattern of policy.requireTests) {
    const byName = suiteMatcher(pattern);
    const matching = suites.filter((s) => (pattern.toLowerCase() === 'security' ? isSecuritySuite(s) : byName(s.name)));
    const bad = matching.filter((s) => s.failed + s.errored > 0);
    const ran = matching.filter((s) => s.tests > s.skipped);
    if (ran.length === 0) {
      results.push({
        gate: 'require-tests',
        rule: pattern,
        ok: false,
        reason: `no test suite matching "${pattern}" ran`,
      });
    } else if (bad.length > 0) {
      const detail = bad.map((s) => `${s.name}: ${s.failed} failed, ${s.errored} errored`).join('; ');
      results.push({
        gate: 'require-tests',
        rule: pattern,
        ok: false,
        reason: `suites matching "${pattern}" failed (${detail})`,
      });
    } else {
      const tests = ran.reduce((n, s) => n + s.passed, 0);
      results.push({
        gate: 'require-tests',
        rule: pattern,
        ok: true,
        reason: `${ran.length} suite(s) matching "${pattern}" passed (${tests} tests)`,
      });
    }
  }
  if (policy.maxSeverity !== undefined) {
    const limit = ORDER.indexOf(policy.maxSeverity);
    const counts: Record<VulnSeverityLabel, number> = { unknown: 0, low: 0, medium: 0, high: 0, critical: 0 };
    for (const v of evidence.vulns) for (const k of ORDER) counts[k] += v.summary.counts[k] ?? 0;
    const over = ORDER.filter((k, i) => i > limit && counts[k] > 0);
    results.push(
      over.length > 0
        ? {
            gate: 'max-severity',
            rule: policy.maxSeverity,
            ok: false,
            reason: `vulnerabilities above ${policy.maxSeverity}: ${over.map((k) => `${counts[k]} ${k}`).join(', ')}`,
          }
        : {
            gate: 'max-severity',
            rule: policy.maxSeverity,
            ok: true,
            reason:
              evidence.vulns.length === 0
                ? `no vulnerability report given (nothing above ${policy.maxSeverity})`
                : `nothing above ${policy.maxSeverity}`,
          },
    );
  }
  for (const glob of policy.denyExecutable) {
    const match = executableMatcher(glob);
    const paths = [
      ...(evidence.inventory?.executables.map((e) => e.path) ?? []),
      ...(evidence.inventory?.symlinks.map((s) => s.path) ?? []),
    ];
    const found = paths.filter((p) => match(p)).sort();
    results.push(
      found.length > 0
        ? {
            gate: 'deny-executable',
            rule: glob,
            ok: false,
            reason: `denied executable present: ${found.slice(0, 5).join(', ')}${found.length > 5 ? ` (+${found.length - 5})` : ''}`,
          }
        : { gate: 'deny-executable', rule: glob, ok: true, reason: `no executable matches ${glob}` },
    );
  }
  return results;
}
