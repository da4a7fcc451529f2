import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run, runOk } from '../harness/exec.ts';
import { cli } from './events-fixture.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'audit-watcher-'));

describe('audit report on events written by a real watcher run', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the alerts of `sealwatch watch -- CMD` (file:// output), hostile path escaped', async () => {
    // A program run from a directory whose name is markup, under a name that is markup too.
    const hostileDir = join(dir, '<b>pwn"');
    mkdirSync(hostileDir);
    const hostile = join(hostileDir, '<script>x');
    copyFileSync('/bin/sleep', hostile);
    await runOk('chmod', ['755', hostile]);
    const events = join(dir, 'events.jsonl');
    await runOk(
      process.execPath,
      [
        join(REPO, 'dist/cli.mjs'),
        'watch',
        '--mode',
        'monitor',
        '--output',
        `file://${events}`,
        '--',
        'sh',
        '-c',
        `'${hostile}' 2; sleep 1`,
      ],
      { cwd: dir, timeout: 60_000 },
    );
    expect(existsSync(events)).toBe(true);

    const json = await cli(['audit', 'report', '--events', events, '--format', 'json'], dir);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      report: { inputs: { badLines: number }[]; rules: { id: string }[] };
      events: { rule?: { id: string }; process?: { name?: string } }[];
    };
    expect(doc.report.inputs[0]?.badLines).toBe(0);
    const ruleIds = doc.report.rules.map((r) => r.id);
    expect(ruleIds).toContain('exec-from-tmp');
    expect(doc.events.find((e) => e.rule?.id === 'exec-from-tmp')?.process?.name).toBe('<script>x');

    const html = await cli(['audit', 'report', '--events', events, '--format', 'html', '--rule', 'exec-from-tmp'], dir);
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('&#60;script&#62;x');
    expect(html.stdout).toContain('&#60;b&#62;pwn&#34;');
    expect(html.stdout).not.toMatch(/<script|<b>/);
    const csv = await cli(['audit', 'report', '--events', events, '--format', 'csv', '--rule', 'exec-from-tmp'], dir);
    const row = csv.stdout.split('\r\n')[1]!;
    expect(row).toContain(`"${hostile.replaceAll('"', '""')}"`);
    expect(readFileSync(events, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(doc.events.length);
  });

  it('a kill by `watch --mode enforce --evidence-key` is the response of its alert; `--pub` verifies the signed record', async () => {
    const program = join(dir, 'napper');
    copyFileSync('/bin/sleep', program);
    await runOk('chmod', ['755', program]);
    const events = join(dir, 'enforce.jsonl');
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(dir, 'evidence.key'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'evidence.pub'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    // exec-from-tmp (high) fires on the program; enforce kills it, which ends the watched command.
    await run(
      process.execPath,
      [
        join(REPO, 'dist/cli.mjs'),
        'watch',
        '--mode',
        'enforce',
        '--evidence-key',
        join(dir, 'evidence.key'),
        '--output',
        `file://${events}`,
        '--',
        program,
        '30',
      ],
      { cwd: dir, timeout: 60_000 },
    );
    const json = await cli(
      ['audit', 'report', '--events', events, '--format', 'json', '--rule', 'exec-from-tmp', '--pub', 'evidence.pub'],
      dir,
    );
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      report: {
        alerts: number;
        responses: number;
        rules: Record<string, unknown>[];
        integrity: { ok: boolean; runs: { checkpoints: number }[] };
      };
      events: { event: { action: string } }[];
    };
    // The record covers every line of the log (the filter only shapes the listing).
    expect(doc.report.integrity.ok).toBe(true);
    expect(doc.report.integrity.runs[0]!.checkpoints).toBeGreaterThanOrEqual(1);
    expect(json.stderr).toMatch(/Integrity: VERIFIED: events 1–\d+ verified against \d+ signed checkpoints?/);
    expect(doc.report.rules).toEqual([
      expect.objectContaining({ id: 'exec-from-tmp', events: 2, alerts: 1, responses: { killed: 1 } }),
    ]);
    expect([doc.report.alerts, doc.report.responses]).toEqual([1, 1]);
    expect(doc.events.map((e) => e.event.action)).toEqual(['process-started', 'process-killed']);
    const md = await cli(['audit', 'report', '--events', events, '--rule', 'exec-from-tmp'], dir);
    expect(md.stdout).toMatch(/## Rule exec-from-tmp: .* \(1 alert, 1 killed\)/);
  });
});
