import { escapeTerminal as t } from '../report/escape.ts';
import { compareFindings, type Finding, type ImageStory } from './story.ts';

export interface Change<T = string> {
  added: T[];
  removed: T[];
}

export interface StoryDiff {
  a: { ref: string; verified: boolean; seal: ImageStory['seal'] };
  b: { ref: string; verified: boolean; seal: ImageStory['seal'] };
  /** True only when both seals verified. */
  verified: boolean;
  source: { a?: string; b?: string; commitA?: string; commitB?: string; changed: boolean };
  tests: {
    suites: Change;
    securitySuites: Change;
    newlyFailing: string[];
    fixed: string[];
    counts: { a?: { tests: number; failed: number }; b?: { tests: number; failed: number } };
  };
  vulns: { fixed: Finding[]; introduced: Finding[] };
  highlights: { name: string; a: boolean; b: boolean }[];
  executables: Change & { changed: string[] };
  packages: Change & { changed: string[] };
  setuid: Change;
  setgid: Change;
  users: Change;
  profile: { executables: Change; listen: Change; egress: Change };
}

function change(a: readonly string[] = [], b: readonly string[] = []): Change {
  const setA = new Set(a);
  const setB = new Set(b);
  return { added: [...setB].filter((x) => !setA.has(x)).sort(), removed: [...setA].filter((x) => !setB.has(x)).sort() };
}

function recordChange(a: Record<string, string> = {}, b: Record<string, string> = {}): Change & { changed: string[] } {
  const base = change(Object.keys(a), Object.keys(b));
  const changed = Object.keys(a)
    .filter((k) => k in b && a[k] !== b[k])
    .sort();
  return { ...base, changed };
}

function findings(story: ImageStory): Map<string, Finding> {
  const map = new Map<string, Finding>();
  for (const scan of story.scans) for (const f of scan.findings) if (!map.has(f.id)) map.set(f.id, f);
  return map;
}

/** What changed from build A to build B, every list sorted. */
export function diffStories(a: ImageStory, b: ImageStory): StoryDiff {
  const suiteNames = (s: ImageStory): string[] => s.tests?.suites.map((x) => x.name) ?? [];
  const failing = (s: ImageStory): Set<string> =>
    new Set(s.tests?.suites.filter((x) => x.failed + x.errored > 0).map((x) => x.name) ?? []);
  const failA = failing(a);
  const failB = failing(b);
  const fa = findings(a);
  const fb = findings(b);
  const highlightNames = [
    ...new Set([...(a.inventory?.highlights ?? []), ...(b.inventory?.highlights ?? [])].map((h) => h.name)),
  ];
  const present = (s: ImageStory, name: string): boolean =>
    s.inventory?.highlights.find((h) => h.name === name)?.present ?? false;
  const users = (s: ImageStory): string[] => s.inventory?.users.map((u) => `${u.name} (${u.uid})`) ?? [];
  const counts = (s: ImageStory): { tests: number; failed: number } | undefined =>
    s.tests ? { tests: s.tests.tests, failed: s.tests.failed + s.tests.errored } : undefined;
  const ca = counts(a);
  const cb = counts(b);
  return {
    a: { ref: a.ref, verified: a.verified, seal: a.seal },
    b: { ref: b.ref, verified: b.verified, seal: b.seal },
    verified: a.verified && b.verified,
    source: {
      ...(a.build?.sourceRepo !== undefined ? { a: a.build.sourceRepo } : {}),
      ...(b.build?.sourceRepo !== undefined ? { b: b.build.sourceRepo } : {}),
      ...(a.build?.commit !== undefined ? { commitA: a.build.commit } : {}),
      ...(b.build?.commit !== undefined ? { commitB: b.build.commit } : {}),
      changed: a.build?.commit !== b.build?.commit || a.build?.sourceRepo !== b.build?.sourceRepo,
    },
    tests: {
      suites: change(suiteNames(a), suiteNames(b)),
      securitySuites: change(a.tests?.securitySuites, b.tests?.securitySuites),
      newlyFailing: [...failB].filter((n) => !failA.has(n)).sort(),
      fixed: [...failA].filter((n) => !failB.has(n) && suiteNames(b).includes(n)).sort(),
      counts: { ...(ca ? { a: ca } : {}), ...(cb ? { b: cb } : {}) },
    },
    vulns: {
      fixed: [...fa.values()].filter((f) => !fb.has(f.id)).sort(compareFindings),
      introduced: [...fb.values()].filter((f) => !fa.has(f.id)).sort(compareFindings),
    },
    highlights: highlightNames
      .map((name) => ({ name, a: present(a, name), b: present(b, name) }))
      .filter((h) => h.a !== h.b),
    executables: recordChange(a.inventory?.executablePaths, b.inventory?.executablePaths),
    packages: recordChange(a.inventory?.packageVersions, b.inventory?.packageVersions),
    setuid: change(a.inventory?.setuid, b.inventory?.setuid),
    setgid: change(a.inventory?.setgid, b.inventory?.setgid),
    users: change(users(a), users(b)),
    profile: {
      executables: change(a.profile?.executables, b.profile?.executables),
      listen: change(a.profile?.listen, b.profile?.listen),
      egress: change(a.profile?.egress, b.profile?.egress),
    },
  };
}

function changeLines(label: string, c: Change, extra?: string[]): string[] {
  const lines: string[] = [];
  for (const x of c.added) lines.push(`${label} added: ${t(x)}`);
  for (const x of c.removed) lines.push(`${label} removed: ${t(x)}`);
  for (const x of extra ?? []) lines.push(`${label} changed: ${t(x)}`);
  return lines;
}

/** Human diff: the two verdicts first, then one line per change; `[unverified]` on every line unless both verified. */
export function renderDiff(d: StoryDiff): string {
  const out: string[] = [];
  const verdict = (side: StoryDiff['a']): string =>
    side.seal.status === 'verified'
      ? `${t(side.ref)}: seal VERIFIED`
      : `${t(side.ref)}: seal ${side.seal.status.toUpperCase()}: ${t(side.seal.reason ?? '')}`;
  out.push(`A ${verdict(d.a)}`, `B ${verdict(d.b)}`);
  const mark = d.verified ? '' : '[unverified] ';
  const body: string[] = [];
  if (d.source.changed) {
    body.push(
      `source: ${t(d.source.a ?? '?')}@${t(d.source.commitA ?? '?')} → ${t(d.source.b ?? '?')}@${t(d.source.commitB ?? '?')}`,
    );
  } else body.push(`source: unchanged (${t(d.source.b ?? '?')}@${t(d.source.commitB ?? '?')})`);
  for (const h of d.highlights)
    body.push(
      `${h.name}: ${h.a ? 'present' : 'absent'} → ${h.b ? 'present' : 'absent'} (${h.b ? 'ADDED' : 'REMOVED'})`,
    );
  const { a: ca, b: cb } = d.tests.counts;
  if (ca || cb)
    body.push(
      `tests: ${ca ? `${ca.tests} (${ca.failed} failed)` : 'none'} → ${cb ? `${cb.tests} (${cb.failed} failed)` : 'none'}`,
    );
  body.push(...changeLines('test suite', d.tests.suites));
  body.push(...changeLines('security suite', d.tests.securitySuites));
  for (const s of d.tests.newlyFailing) body.push(`test suite newly failing: ${t(s)}`);
  for (const s of d.tests.fixed) body.push(`test suite fixed: ${t(s)}`);
  for (const f of d.vulns.fixed)
    body.push(`vulnerability fixed: ${t(f.id)} (${f.severity}${f.package !== undefined ? `, ${t(f.package)}` : ''})`);
  for (const f of d.vulns.introduced)
    body.push(
      `vulnerability introduced: ${t(f.id)} (${f.severity}${f.package !== undefined ? `, ${t(f.package)}` : ''})`,
    );
  body.push(...changeLines('executable', d.executables, d.executables.changed));
  body.push(...changeLines('package', d.packages, d.packages.changed));
  body.push(...changeLines('setuid', d.setuid));
  body.push(...changeLines('setgid', d.setgid));
  body.push(...changeLines('user', d.users));
  body.push(...changeLines('profile executable', d.profile.executables));
  body.push(...changeLines('profile listen', d.profile.listen));
  body.push(...changeLines('profile egress', d.profile.egress));
  if (body.length === 1 && !d.source.changed) body.push('no other changes');
  for (const line of body) out.push(`${mark}${line}`);
  return `${out.join('\n')}\n`;
}
