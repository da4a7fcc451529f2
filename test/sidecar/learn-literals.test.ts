import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../shared/config/index.ts';
import { escapeGlob, Profile, profileSpec } from '../../shared/profile/index.ts';
import { allRules, createRuleEngine, globMatch } from '../../sidecar/evaluate/index.ts';
import { createLearner, profileToYaml, writeProfileFile } from '../../sidecar/learn/index.ts';
import { watchScript } from '../harness/cli.ts';
import { freePort } from '../harness/net.ts';
import { started } from './make-events.ts';

/**
 * #15 item 5: what `learn` observed is written as literals in the profile's glob language. 400 runs of a program
 * named `*` (busybox run with the applet `*`) once learned `{exe: /usr/bin/busybox, name: "*"}`, after which
 * `nc -l` raised no `profile.exe-not-allowed`.
 */
const dir = mkdtempSync(join(tmpdir(), 'sw-learn-literals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOSTILE = [
  '*',
  '**',
  '?',
  '[a-z]*',
  '{nc,sh}',
  '!(x)',
  '@(nc)',
  '+(n)',
  '*(c)',
  '^nc$',
  'a|nc',
  '!',
  './*',
  '.x',
];
const OTHERS = ['nc', 'sh', 'x', 'a', 'n', 'c', 'nn', 'busybox', '/usr/bin/nc', '', '*'];

describe('learned values are literals (#15.5)', () => {
  it('an escaped name matches itself and nothing else', () => {
    for (const name of [...HOSTILE, '/usr/bin/*', '/opt/[app]/run{1,2}']) {
      const glob = escapeGlob(name)!;
      expect(globMatch(glob, name), name).toBe(true);
      for (const other of OTHERS) if (other !== name) expect(globMatch(glob, other), name).toBe(false);
    }
  });

  it('a name with a backslash (no exact glob for it) is not learned, and counted', () => {
    expect(escapeGlob('a\\*')).toBeUndefined();
    const learner = createLearner();
    learner.observe(started({ pid: 3, name: 'x\\*', args: ['x\\*'], exe: '/usr/bin/busybox' }));
    expect(learner.profile().processes).toEqual([]);
    expect(learner.observed.unlearnable).toBe(1);
    // said in the learned file's header
    const file = join(dir, 'unlearnable.yaml');
    writeProfileFile(file, learner.profile(), 'test', learner.notes());
    expect(readFileSync(file, 'utf8')).toMatch(/^# 1 process start\(s\) not learned: a backslash/m);
  });

  it('400 runs of a program named `*` learn `\\*`; with that profile a real `nc -l` still raises profile.exe-not-allowed', async () => {
    const learner = createLearner();
    for (let pid = 100; pid < 500; pid++)
      learner.observe(started({ pid, name: 'busybox', args: ['busybox', '*'], exe: '/usr/bin/busybox' }));
    learner.observe(started({ pid: 2, name: 'sh', args: ['sh', '-c', 'x'], exe: '/usr/bin/dash' }));
    const file = join(dir, 'learned.yaml');
    writeFileSync(file, profileToYaml(learner.profile()));
    const { value } = loadConfigFile(profileSpec, file);
    expect(value.processes.map((p) => [p.exe, p.name])).toEqual([
      ['/usr/bin/busybox', '\\*'],
      ['/usr/bin/dash', 'sh'],
    ]);

    // the rules, given the profile: the unescaped entry would have allowed every busybox applet
    const nc = started({ pid: 9, name: 'nc', args: ['nc', '-l', '-p', '9000'], exe: '/usr/bin/busybox' });
    const judged = (profile: Profile) =>
      createRuleEngine(allRules(profile), { profile })
        .evaluate(nc)
        .map((h) => h.rule.id);
    expect(judged(value)).toContain('profile.exe-not-allowed');
    const poisoned = Profile.parse({ ...value, processes: [{ exe: '/usr/bin/busybox', name: '*' }] });
    expect(judged(poisoned)).not.toContain('profile.exe-not-allowed');
    // the program named `*` itself is still allowed
    expect(
      createRuleEngine(allRules(value), { profile: value })
        .evaluate(started({ pid: 10, name: 'busybox', args: ['busybox', '*'], exe: '/usr/bin/busybox' }))
        .map((h) => h.rule.id),
    ).not.toContain('profile.exe-not-allowed');

    // a real watcher with the learned profile, a real busybox nc listening
    const port = await freePort();
    const res = await watchScript(dir, `busybox nc -l -p ${port} & pid=$!; sleep 1.5; kill $pid`, {
      flags: ['--profile', file],
    });
    expect(res.code, res.stderr).toBe(0);
    expect(
      res.events.some((e) => e.rule?.id === 'profile.exe-not-allowed' && e.process?.args?.includes('-l')),
      JSON.stringify(res.events.map((e) => [e.rule?.id, e.process?.args])),
    ).toBe(true);
  }, 60_000);
});
