import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { started } from './make-events.ts';
import { runCliCaptured } from '../harness/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sw-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const { code, stdout, stderr } = await runCliCaptured(argv, { cwd: dir });
  return { code, out: stdout, err: stderr };
}

const POLICY = `apiVersion: sealwatch.dev/v1
kind: Policy
disable: [suspicious-network-tool]
rules:
  - id: no-curl-internal
    name: curl to the internal network
    severity: high
    match: { name: curl, args: '10\\.' }
    exceptions: [{ args: health }]
`;

describe('sealwatch policy', () => {
  it('lint accepts a valid policy and reports every problem of a bad one, one line each naming the field', async () => {
    writeFileSync(join(dir, 'good.yaml'), POLICY);
    const ok = await cli('policy', 'lint', 'good.yaml');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('good.yaml: ok (1 custom rule(s), 1 disabled)');

    writeFileSync(
      join(dir, 'bad.yaml'),
      `apiVersion: sealwatch.dev/v1
kind: Policy
disable: [no-such-rule]
rules:
  - id: Bad Id
    name: x
    severity: extreme
    match: { args: '(' }
  - id: reverse-shell
    name: y
    severity: high
    match: { cidr: '10.0.0.0/99' }
`,
    );
    const bad = await cli('policy', 'lint', 'bad.yaml');
    expect(bad.code).toBe(2);
    const lines = bad.err.trim().split('\n');
    expect(lines.some((l) => l.startsWith('bad.yaml: rules[0].id:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('bad.yaml: rules[0].severity:'))).toBe(true);

    writeFileSync(
      join(dir, 'bad2.yaml'),
      POLICY.replace("args: '10\\.'", "args: '('") +
        `  - id: reverse-shell\n    name: y\n    severity: high\n    match: { cidr: '10.0.0.0/99' }\n`,
    );
    const bad2 = await cli('policy', 'lint', 'bad2.yaml');
    expect(bad2.code).toBe(2);
    expect(bad2.err).toContain('bad2.yaml: rules.custom[0].match.args: not a valid regular expression');
    expect(bad2.err).toContain('bad2.yaml: rules.custom[1].id: "reverse-shell" is the id of a built-in rule');
    expect(bad2.err).toContain('bad2.yaml: rules.custom[1].match.cidr');
  });

  it('test replays events and prints which rules fire, skipping bad lines', async () => {
    writeFileSync(join(dir, 'good.yaml'), POLICY);
    const events = [
      started({ pid: 10, name: 'curl', exe: '/usr/bin/curl', args: ['curl', 'http://10.0.0.1/'] }),
      started({ pid: 11, name: 'curl', exe: '/usr/bin/curl', args: ['curl', 'http://10.0.0.1/health'] }),
      started({ pid: 12, name: 'nc', exe: '/bin/busybox', args: ['nc', '-l', '-p', '9'] }),
      started({ pid: 13, name: 'x\n(evil)', exe: '/tmp/x\nfake', args: ['x'] }),
    ];
    writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\nnot json\n{"a":1}\n');
    const r = await cli('policy', 'test', 'good.yaml', '--events', 'events.jsonl');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^events\.jsonl:1: no-curl-internal \(severity 8\)/);
    // nc is only a network tool here, and that rule is disabled by the policy
    expect(lines.some((l) => l.startsWith('events.jsonl:3:'))).toBe(false);
    expect(lines.filter((l) => l.startsWith('events.jsonl:4: exec-from-tmp'))).toHaveLength(1);
    // a newline in an attacker-controlled name cannot forge an output line
    expect(lines).toHaveLength(2);
    expect(r.err).toContain('events.jsonl:5: skipped: not JSON');
    expect(r.err).toContain('4 event(s), 2 hit(s), 2 line(s) skipped');
  });

  it('test skips a line longer than 1 MiB as it streams past, and judges the lines around it', async () => {
    writeFileSync(join(dir, 'good.yaml'), POLICY);
    const curl = JSON.stringify(
      started({ pid: 10, name: 'curl', exe: '/usr/bin/curl', args: ['curl', 'http://10.0.0.1/'] }),
    );
    writeFileSync(join(dir, 'long.jsonl'), `${curl}\n{"message":"${'a'.repeat(3 * 1024 * 1024)}"}\n${curl}\n`);
    const r = await cli('policy', 'test', 'good.yaml', '--events', 'long.jsonl');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^long\.jsonl:1: no-curl-internal/m);
    expect(r.out).toMatch(/^long\.jsonl:3: no-curl-internal/m);
    expect(r.err).toContain('long.jsonl:2: skipped: longer than 1 MiB');
    expect(r.err).toContain('2 event(s), 2 hit(s), 1 line(s) skipped');
  });
});
