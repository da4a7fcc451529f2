import { escapeTerminal as t } from '../report/escape.ts';
import type { ImageStory } from './story.ts';

const TOP_FINDINGS = 5;

function list(items: readonly string[], none = 'none'): string {
  return items.length === 0 ? none : items.map(t).join(', ');
}

/** The one line that comes first: whether the seal can be trusted. */
export function verdictLine(story: ImageStory): string {
  switch (story.seal.status) {
    case 'verified':
      return `seal: VERIFIED (key ${t(story.keyHint ?? '?')}, identity ${t(story.identity ?? '?')})`;
    case 'unsealed':
      return `seal: UNSEALED: ${t(story.seal.reason ?? `${story.ref} carries no seal`)}`;
    case 'invalid':
      return `seal: INVALID: ${t(story.seal.reason ?? 'verification failed')}; every claim below is UNVERIFIED`;
  }
}

/**
 * The human story of an image. The verdict is the first line; when the seal did not verify, every
 * following line starts with `[unverified]`.
 */
export function renderStory(story: ImageStory): string {
  const lines: string[] = [];
  const mark = story.verified ? '' : '[unverified] ';
  const add = (line: string): void => {
    lines.push(`${mark}${line}`);
  };
  lines.push(verdictLine(story));
  lines.push(`image: ${t(story.ref)}`);
  if (story.seal.status === 'unsealed') return `${lines.join('\n')}\n`;

  const b = story.build;
  if (b) {
    const source = b.sourceRepo !== undefined ? `${t(b.sourceRepo)}@${t(b.commit ?? '?')}` : 'unknown source';
    add(
      `build: from ${source}${b.ref !== undefined ? ` (${t(b.ref)})` : ''}, by ${t(b.builderId ?? 'unknown builder')}` +
        `${b.runUrl !== undefined ? `, run ${t(b.runUrl)}` : ''}, finished ${t(b.finishedOn ?? b.sealedAt ?? 'unknown')}`,
    );
    if (b.baseImage !== undefined) add(`base image: ${t(b.baseImage)}`);
    if (b.sealedAt !== undefined) add(`sealed at: ${t(b.sealedAt)}`);
  } else add('build: no provenance in the seal');

  const tests = story.tests;
  if (tests) {
    add(
      `tests: ${tests.result}: ${tests.tests} tests in ${tests.suites.length} suite(s): ${tests.passed} passed, ${tests.failed} failed, ${tests.errored} errored, ${tests.skipped} skipped`,
    );
    add(`  security suites: ${list(tests.securitySuites)}`);
    for (const s of tests.suites) {
      add(
        `  suite ${t(s.name)}${s.security ? ' [security]' : ''}: ${s.tests} tests, ${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped`,
      );
    }
    if (tests.failedTests.length > 0)
      add(`  failing: ${list(tests.failedTests.slice(0, 10))}${tests.failedTests.length > 10 ? ', …' : ''}`);
  } else add('tests: none recorded in the seal');

  if (story.scans.length === 0) add('scans: none recorded in the seal');
  for (const scan of story.scans) {
    const c = scan.counts;
    add(
      `scan: ${t(scan.scanner)} ${t(scan.version)}: ${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low, ${c.unknown} unknown`,
    );
    const top = scan.findings.slice(0, TOP_FINDINGS);
    if (top.length > 0) {
      add(
        `  top findings: ${top.map((f) => `${t(f.id)} (${f.severity}${f.package !== undefined ? `, ${t(f.package)}` : ''})`).join('; ')}`,
      );
    }
  }
  for (const s of story.sarif) {
    add(
      `sarif: ${t(s.tool)}: ${s.error} error, ${s.warning} warning, ${s.note} note${s.topRules.length > 0 ? `; top rules: ${s.topRules.map((r) => `${t(r.id)} ×${r.count}`).join(', ')}` : ''}`,
    );
  }

  const inv = story.inventory;
  if (inv) {
    add(`inventory: ${inv.files} files, ${inv.executables} executables, ${inv.packages} packages`);
    add(`  ${inv.highlights.map((h) => `${h.name}: ${h.present ? 'PRESENT' : 'absent'}`).join('; ')}`);
    for (const h of inv.highlights.filter((x) => x.present)) add(`  ${h.name} at ${list(h.paths)}`);
    add(`  package managers: ${list(inv.packageManagers)}`);
    add(`  setuid: ${list(inv.setuid)}; setgid: ${list(inv.setgid)}`);
    add(
      `  users: ${inv.users.length === 0 ? 'none' : inv.users.map((u) => `${t(u.name)} (${u.uid}, ${t(u.shell)})`).join(', ')}`,
    );
    if (inv.worldWritableDirs.length > 0) add(`  world-writable dirs: ${list(inv.worldWritableDirs)}`);
  } else add('inventory: none recorded in the seal');

  const p = story.profile;
  if (p) {
    add(
      `profile (${list(p.sources)}): ${p.executables.length} executable(s): ${list(p.executables)}; listens: ${list(p.listen)}; egress: ${list(p.egress)}`,
    );
  } else add('profile: none recorded in the seal');

  if (story.runtimeTraces.length === 0) add('runtime trace: none recorded in the seal');
  for (const r of story.runtimeTraces) {
    const how = r.durationSeconds !== undefined ? `${r.durationSeconds} s` : 'unknown duration';
    add(
      `runtime trace: ${t(r.run)} on ${t(r.host)}, ${how}${r.startedOn !== undefined ? ` from ${t(r.startedOn)}` : ''} (monitor ${t(r.monitor)})`,
    );
    add(
      `  ran ${r.processes} program(s), ${r.executions} time(s): ${list(r.topProcesses.map((p) => `${p.executable} ×${p.count}`))}`,
    );
    add(`  listened on: ${list(r.listen)}; connected to: ${list(r.outbound)}; files read: ${r.files}`);
    if (r.truncated) {
      add(
        `  left out (over the cap): ${Object.entries(r.truncated)
          .map(([k, n]) => `${t(k)} ${n}`)
          .join(', ')}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `--json`: the story itself, with the verdict first. */
export function storyJson(story: ImageStory): string {
  return `${JSON.stringify(story, null, 2)}\n`;
}
