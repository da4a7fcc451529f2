import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARGS_INPUT_MAX_CHARS, compileArgsPattern, Profile } from '../../shared/profile/index.ts';
import { allRules, createRuleEngine } from '../../sidecar/evaluate/index.ts';
import { runCliCaptured, watchScript } from '../harness/cli.ts';
import { started } from './make-events.ts';

/**
 * #15 item 2 (ReDoS) and item 4 (exception typos). Every user regular expression (profile `args`, custom rules'
 * `match.args` and exceptions) runs on V8's linear-time engine, compiled in one place; what that engine cannot run is
 * a lint error naming the file and field. Exceptions have the same strict keys as `match`.
 */
const dir = mkdtempSync(join(tmpdir(), 'sw-user-regex-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const DIGITS = '1'.repeat(40);

describe('user regular expressions (#15.2)', () => {
  it("the issue's profile does not stall a real watcher: `sleep <40 digits>d` is judged and the run ends", async () => {
    const profile = file(
      'redos.yaml',
      'apiVersion: sealwatch.dev/v1\nkind: Profile\nprocesses:\n  - { exe: "**", args: "^(\\\\d+\\\\s?)*$" }\n',
    );
    expect((await runCliCaptured(['profile', 'lint', profile])).code).toBe(0);
    // the sleep lives until killed, so a poller sees it whatever the machine's load; the run ends when sh does
    const res = await watchScript(dir, `sleep ${DIGITS}d & pid=$!; sleep 1.5; kill $pid`, {
      flags: ['--profile', profile],
    });
    expect(res.code, res.stderr).toBe(0);
    expect(
      res.events.some((e) => e.rule?.id === 'profile.exe-not-allowed' && e.process?.args?.[1] === `${DIGITS}d`),
    ).toBe(true);
  }, 60_000);

  it('a pattern the linear engine cannot run is a lint error naming the file and field, for every place args is', async () => {
    const profile = file(
      'backref.yaml',
      [
        'apiVersion: sealwatch.dev/v1',
        'kind: Profile',
        'processes:',
        '  - { exe: /bin/app, args: "^(a+)\\\\1$" }',
        'rules:',
        '  custom:',
        '    - { id: x, name: x, severity: low, match: { args: "(-)\\\\1p" }, exceptions: [{ args: "(?=x)" }] }',
        '',
      ].join('\n'),
    );
    const res = await runCliCaptured(['profile', 'lint', profile]);
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split('\n');
    for (const field of ['processes[0].args', 'rules.custom[0].match.args', 'rules.custom[0].exceptions[0].args'])
      expect(lines.some((l) => l.includes(profile) && l.includes(`${field}: cannot be matched in linear time`))).toBe(
        true,
      );
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const policy = file(
      'policy.yaml',
      'apiVersion: sealwatch.dev/v1\nkind: Policy\nrules:\n  - { id: y, name: y, severity: low, match: { args: "(a)\\\\1" } }\n',
    );
    const lint = await runCliCaptured(['policy', 'lint', policy]);
    expect(lint.code).toBe(2);
    expect(lint.stderr).toContain('rules.custom[0].match.args: cannot be matched in linear time');
  });

  it('arguments over the cap are not matched: an allowing entry or an exception does not hold, a detecting match fires', () => {
    const long = 'x'.repeat(ARGS_INPUT_MAX_CHARS);
    const profile = Profile.parse({
      apiVersion: 'sealwatch.dev/v1',
      kind: 'Profile',
      processes: [{ exe: '/bin/app', args: '^[a-z ]*$' }],
      rules: {
        custom: [
          { id: 'detect', name: 'detect', severity: 'low', match: { name: 'app', args: 'evil' } },
          {
            id: 'excused',
            name: 'excused',
            severity: 'low',
            match: { name: 'app' },
            exceptions: [{ args: '^[a-z ]*$' }],
          },
        ],
      },
    });
    const engine = createRuleEngine(allRules(profile), { profile });
    const ids = (args: string[]) =>
      engine
        .evaluate(started({ pid: 7, name: 'app', exe: '/bin/app', args: ['app', ...args] }))
        .map((h) => h.rule.id)
        .sort();
    expect(ids(['fine'])).toEqual([]);
    expect(ids(['evil'])).toEqual(['detect']);
    // cutting the input at the cap would have allowed what follows the cut
    expect(ids([long, 'EVIL;rm'])).toEqual(['detect', 'excused', 'profile.exe-not-allowed']);
  });

  it('one compile for lint and rules: the V8 linear engine', () => {
    expect('regex' in compileArgsPattern('^(\\d+\\s?)*$')).toBe(true);
    expect(compileArgsPattern('(')).toMatchObject({
      problem: expect.stringMatching(/^not a valid regular expression/),
    });
    expect(compileArgsPattern('a'.repeat(1001))).toMatchObject({ problem: expect.stringMatching(/^longer than 1000/) });
    const compiled = compileArgsPattern('^(\\d+\\s?)*$');
    if (!('regex' in compiled)) throw new Error(compiled.problem);
    expect(compiled.regex.flags).toContain('l');
    expect(compiled.regex.test(`${DIGITS}d`)).toBe(false);
  });
});

describe('rule exceptions are strict (#15.4)', () => {
  it('`{ parnet: cron }` is a lint error naming the field; an empty exception is refused', async () => {
    const policy = file(
      'typo.yaml',
      [
        'apiVersion: sealwatch.dev/v1',
        'kind: Policy',
        'rules:',
        '  - id: shells',
        '    name: shells',
        '    severity: high',
        '    match: { name: sh }',
        '    exceptions: [{ parnet: cron }]',
        '',
      ].join('\n'),
    );
    const res = await runCliCaptured(['policy', 'lint', policy]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(policy);
    expect(res.stderr).toMatch(/rules\[0\]\.exceptions\[0\].*parnet/);
    const empty = file('empty.yaml', readFileSync(policy, 'utf8').replace('{ parnet: cron }', '{}'));
    const lint = await runCliCaptured(['policy', 'lint', empty]);
    expect(lint.code).toBe(2);
    expect(lint.stderr).toContain(`${empty}: rules.custom[0].exceptions[0]: needs at least one condition`);
  });
});
