import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { runReport } from '../../audit/index.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { parseSigningKey } from '../../shared/signing/index.ts';
import { run as exec } from '../harness/exec.ts';
import { cli, killOf, makeEvent, writeEvents } from './events-fixture.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;
const HOSTILE_NAME = '<script>document.title="pwned"</script>';
const HOSTILE_ARG = '"><img src=x onerror=alert(1)>';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'audit-report-'));
  const events = [
    makeEvent(1, { severity: 9, ruleId: 'netcat' }),
    makeEvent(2, { severity: 3 }),
    makeEvent(3, {
      severity: 7,
      ruleId: 'netcat',
      process: { pid: 66, name: HOSTILE_NAME, args: [HOSTILE_ARG, '=HYPERLINK("http://x")'] },
      source: { ip: '127.0.0.1', port: 4444 },
      destination: { ip: '10.0.0.9', port: 443, domain: 'evil.example' },
      network: { transport: 'tcp', direction: 'egress' },
    }),
    makeEvent(4, { severity: 5, at: '2026-11-03T08:00:00.000Z', orchestrator: { namespace: 'staging' } }),
    makeEvent(5, {
      severity: 10,
      at: '2026-11-04T23:59:59.000Z',
      ruleId: 'miner',
      container: { image: { name: 'other/img:2' } },
    }),
    makeEvent(6, { severity: 0, at: '2026-10-01T00:00:00.000Z', ruleId: 'old' }),
  ];
  // Same events, two files, different line orders: the reports must be byte-identical.
  writeEvents(join(dir, 'a.jsonl'), events, { extraLines: ['{not json', '{"valid":"json but not an event"}'] });
  writeEvents(join(dir, 'b.jsonl'), [...events].reverse(), {
    extraLines: ['{not json', '{"valid":"json but not an event"}'],
  });
  // gzip detected by magic bytes, whatever the name
  writeEvents(join(dir, 'zipped.jsonl'), events, { gzip: true });
});

describe('audit report', () => {
  it('md: summary counts, per-day and per-rule tables, bad lines counted and located', async () => {
    const run = await cli(['audit', 'report', '--events', 'a.jsonl'], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      '- Input: a.jsonl: 6 event(s), 2 bad line(s) skipped: 1 not JSON, 1 not an event (line 2, 3)',
    );
    expect(run.stdout).toContain('| critical | 2 |');
    expect(run.stdout).toContain('| high | 1 |');
    expect(run.stdout).toContain('| 2026-11-01 | 3 |');
    expect(run.stdout).toContain('## Rule netcat: Rule netcat (2 alerts)');
    expect(run.stdout).toContain('127.0.0.1:4444 → evil.example:443 (egress)');
    // the hostile name never appears raw
    expect(run.stdout).not.toContain('<script>');
    expect(run.stdout).not.toContain('<img');
    expect(run.stderr.trim()).toBe('warning: 2 bad line(s) skipped: 1 not JSON, 1 not an event (listed in the report)');
  });

  it('is deterministic: the same events in another order and another file give the same bytes', async () => {
    for (const format of ['md', 'html', 'csv', 'json']) {
      const a = await cli(['audit', 'report', '--events', 'a.jsonl', '--format', format], dir);
      const b = await cli(['audit', 'report', '--events', 'b.jsonl', '--format', format], dir);
      expect(b.stdout.replaceAll('b.jsonl', 'a.jsonl')).toBe(a.stdout);
    }
  });

  it('reads gzip detected by its magic bytes', async () => {
    const run = await cli(['audit', 'report', '--events', 'zipped.jsonl', '--format', 'json'], dir);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.report.inputs[0]).toMatchObject({ gzip: true, events: 6, badLines: 0 });
  });

  it('filters by rule, severity, window, image, namespace, type and category', async () => {
    const ids = async (...flags: string[]): Promise<string[]> => {
      const run = await cli(['audit', 'report', '--events', 'a.jsonl', '--format', 'json', ...flags], dir);
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(run.stdout).events as { message: string }[]).map((e) => e.message);
    };
    expect(await ids('--rule', 'netcat')).toEqual(['event 1', 'event 3']);
    expect(await ids('--rule', 'netcat', '--rule', 'miner')).toEqual(['event 1', 'event 3', 'event 5']);
    expect(await ids('--min-severity', 'high')).toEqual(['event 1', 'event 3', 'event 5']);
    expect(await ids('--min-severity', '9')).toEqual(['event 1', 'event 5']);
    expect(await ids('--from', '2026-11-02', '--to', '2026-11-04')).toEqual(['event 4', 'event 5']);
    expect(await ids('--from', '2026-11-02T00:00:00Z', '--to', '2026-11-04T00:00:00Z')).toEqual(['event 4']);
    expect(await ids('--image', 'other/img')).toEqual(['event 5']);
    expect(await ids('--image', 'sha256:aaa', '--namespace', 'staging')).toEqual(['event 4']);
    expect(await ids('--type', 'connection')).toEqual([]);
    expect(await ids('--type', 'process-started', '--category', 'process', '--rule', 'old')).toEqual(['event 6']);
  });

  it('--since resolves against --now and prints the resolved window', async () => {
    const run = await cli(
      ['audit', 'report', '--events', 'a.jsonl', '--since', '2d', '--now', '2026-11-05T00:00:00Z'],
      dir,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'Window: 2026-11-03T00:00:00.000Z to 2026-11-05T00:00:00.000Z (--since 2d, resolved at 2026-11-05T00:00:00.000Z)',
    );
    expect(run.stdout).toContain(
      'Events in report: 2 (2 alerts, 0 responses, 0 other); 4 outside the window or filters',
    );
  });

  it('csv: stable header, RFC 4180 quoting, formula injection neutralized', async () => {
    const run = await cli(['audit', 'report', '--events', 'a.jsonl', '--format', 'csv', '--rule', 'netcat'], dir);
    const lines = run.stdout.split('\r\n');
    expect(lines[0]).toBe(
      'timestamp,event_id,severity,severity_label,rule_id,rule_name,kind,category,type,action,outcome,message,process_pid,process_ppid,process_name,process_executable,process_args,process_user,process_sha256,parent_executable,source_ip,source_port,destination_ip,destination_port,destination_domain,network_transport,network_direction,file_path,container_id,container_name,image_name,image_digest,namespace,pod,host_name,seal_status,count',
    );
    expect(lines).toHaveLength(4); // header, 2 rows, trailing empty
    const hostile = lines[2]!;
    expect(hostile).toContain(`"${HOSTILE_NAME.replaceAll('"', '""')}"`);
    expect(hostile).toContain('"[""\\""><img src=x onerror=alert(1)>"",""=HYPERLINK(\\""http://x\\"")""]"');
  });

  it('csv: a value starting with = + - @ gets a leading quote', async () => {
    const file = join(dir, 'formula.jsonl');
    writeEvents(file, [
      makeEvent(1, {
        message: '=cmd|"/c calc"!A1',
        process: { pid: 1, name: '+1', executable: '-x', args: ['@SUM(1)'] },
      }),
    ]);
    const run = await cli(['audit', 'report', '--events', 'formula.jsonl', '--format', 'csv'], dir);
    const row = run.stdout.split('\r\n')[1]!;
    expect(row).toContain(`"'=cmd|""/c calc""!A1"`);
    expect(row).toContain(",'+1,'-x,");
    expect(row).not.toMatch(/,[=+\-@]/);
  });

  it('html: one self-contained file, hostile strings escaped, chart per day', async () => {
    const run = await cli(['audit', 'report', '--events', 'a.jsonl', '--format', 'html', '--out', 'r.html'], dir);
    expect(run.code).toBe(0);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<img|src=["']?http|<link/i);
    expect(html).toContain('&#60;script&#62;document.title=&#34;pwned&#34;&#60;/script&#62;');
    expect(html).toContain('&#34;&#62;&#60;img src=x onerror=alert(1)&#62;');
    expect(html).toContain('<svg');
    expect(html).toContain('<title>2026-11-01 critical: 1</title>');
    expect(html).toContain('@media print');
    expect(run.stderr).toContain('wrote r.html: 6 event(s)');
  });

  it('spilling to sorted chunks gives the same report as sorting in memory', async () => {
    const render = async (chunkSize: number): Promise<string> => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString('utf8')));
      await runReport({
        files: [{ path: join(dir, 'b.jsonl'), source: 'b.jsonl' }],
        filter: { window: {}, rules: [], types: [], categories: [], minSeverity: 0, images: [], namespaces: [] },
        format: 'md',
        stdout: out,
        chunkSize,
      });
      return text;
    };
    const inMemory = await render(1000);
    expect(await render(2)).toBe(inMemory);
  });

  it('bad input: one line, exit 2, nothing written', async () => {
    const missing = await cli(['audit', 'report', '--events', 'nope.jsonl', '--out', 'x.html'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('--events nope.jsonl: no such file');
    expect(existsSync(join(dir, 'x.html'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const conflict = await cli(
      ['audit', 'report', '--events', 'a.jsonl', '--since', '1d', '--from', '2026-01-01'],
      dir,
    );
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain('--since cannot be combined with --from/--to');
    const badSince = await cli(['audit', 'report', '--events', 'a.jsonl', '--since', 'yesterday'], dir);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain('--since: "yesterday" is not a duration');
    const badFormat = await cli(['audit', 'report', '--events', 'a.jsonl', '--format', 'pdf'], dir);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format');
    const badSeverity = await cli(['audit', 'report', '--events', 'a.jsonl', '--min-severity', 'urgent'], dir);
    expect(badSeverity.code).toBe(2);
  });

  it('--progress shows each file read on stderr; without a TTY there is none by default', async () => {
    const shown = await cli(['audit', 'report', '--events', 'a.jsonl', '--progress', '--format', 'csv'], dir);
    // not a terminal: a line per 10% read, the last at 100% with the events read
    const lines = shown.stderr.split('\n').filter((l) => l.startsWith('reading '));
    expect(lines.at(-1)).toMatch(/^reading a\.jsonl: [\d.]+ MB of ~[\d.]+ MB.*, 6 events \(100%\)$/);
    const quiet = await cli(['audit', 'report', '--events', 'a.jsonl', '--format', 'csv'], dir);
    expect(quiet.stderr).not.toContain('%');
    expect(shown.stdout).toBe(quiet.stdout);
  });

  it('an empty file gives an empty but valid report', async () => {
    writeFileSync(join(dir, 'empty.jsonl'), '');
    const run = await cli(['audit', 'report', '--events', 'empty.jsonl', '--format', 'json'], dir);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ report: { total: 0 }, events: [] });
  });

  it('controls (ESC, BEL, C1, bidi overrides, line breaks) reach no format raw; JSON keeps the exact value', async () => {
    const hostile = 'x\u001b[2J\u0007\u009b31m\u202egnp.exe\u2066\r\nnext\tcol\u007f\u2028end';
    const file = join(dir, 'controls.jsonl');
    writeEvents(file, [
      makeEvent(1, {
        ruleId: `rule\u001b]0;title\u0007`,
        message: hostile,
        process: { pid: 9, name: hostile, args: [hostile] },
        destination: { domain: hostile, port: 443 },
      }),
    ]);
    // Every raw control, C1, separator and bidi character; the formats' own line ends are checked apart.
    const raw =
      // eslint-disable-next-line no-control-regex
      /[\u0000-\u0009\u000b-\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    for (const format of ['md', 'html', 'csv', 'json']) {
      const report = await cli(['audit', 'report', '--events', 'controls.jsonl', '--format', format], dir);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout, format).not.toMatch(raw);
      if (format === 'csv') {
        // one header and one row, each ended by CRLF: no line break comes from a value
        expect(report.stdout.split('\r\n')).toHaveLength(3);
        expect(report.stdout.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
      }
      if (format === 'json') {
        const doc = JSON.parse(report.stdout) as { events: { message: string; rule: { id: string } }[] };
        expect(doc.events[0]!.message).toBe(hostile);
        expect(doc.events[0]!.rule.id).toBe('rule\u001b]0;title\u0007');
      }
      // Shown as visible escapes (Markdown escapes the backslashes and brackets once more).
      const shown = format === 'md' ? report.stdout.replace(/\\(.)/g, '$1') : report.stdout;
      if (format !== 'json')
        expect(shown).toContain('x\\x1b[2J\\x07\\x9b31m\\u202egnp.exe\\u2066⏎next\\x09col\\x7f\\u2028end');
    }
  });

  it('a line over 1 MiB (even 1 GB) is skipped and counted, in the report and on stderr, in flat memory', async () => {
    const file = join(dir, 'huge.jsonl');
    writeEvents(file, [makeEvent(1)]);
    const head = readFileSync(file).length;
    // A 1 GB line of NUL bytes (a sparse file: cheap to make), then a line of 2 MiB of JSON, then an event.
    truncateSync(file, head + 2 ** 30);
    appendFileSync(file, `\n{"message":"${'a'.repeat(2 * 2 ** 20)}"}\n${JSON.stringify(makeEvent(2))}\n`);
    // The built CLI in a child of its own, so its peak RSS is its own (printed by a preload at exit).
    const preload = join(dir, 'maxrss.cjs');
    writeFileSync(
      preload,
      "process.on('exit', () => require('node:fs').writeSync(2, `maxrss=${process.resourceUsage().maxRSS}\\n`));\n",
    );
    const child = await exec(
      process.execPath,
      ['-r', preload, join(REPO, 'dist/cli.mjs'), 'audit', 'report', '--events', 'huge.jsonl', '--format', 'json'],
      { cwd: dir, timeout: 120_000 },
    );
    expect(child.code, child.stderr).toBe(0);
    expect(child.stderr).toContain('warning: 2 bad line(s) skipped: 2 longer than 1 MiB (listed in the report)');
    const doc = JSON.parse(child.stdout) as { report: { total: number; inputs: Record<string, unknown>[] } };
    expect(doc.report.total).toBe(2);
    expect(doc.report.inputs[0]).toMatchObject({
      lines: 4,
      events: 2,
      badLines: 2,
      badReasons: { 'too-long': 2 },
      firstBadLines: [2, 3],
    });
    const maxRssKiB = Number(/maxrss=(\d+)/.exec(child.stderr)?.[1]);
    expect(maxRssKiB).toBeGreaterThan(0);
    expect(maxRssKiB).toBeLessThan(400 * 1024);
    const md = await cli(['audit', 'report', '--events', 'huge.jsonl'], dir);
    expect(md.stdout).toContain('2 bad line(s) skipped: 2 longer than 1 MiB (line 2, 3)');
  });

  it('a kill counts as a response of its rule, not as a second alert', async () => {
    const alert = makeEvent(1, { severity: 8, ruleId: 'exec-from-tmp' });
    const other = makeEvent(2, { severity: 8, ruleId: 'exec-from-tmp', at: '2026-11-01T11:00:00.000Z' });
    writeEvents(join(dir, 'kill.jsonl'), [alert, killOf(alert, 3), other, killOf(other, 4, 'kill_failed')]);
    const json = await cli(['audit', 'report', '--events', 'kill.jsonl', '--format', 'json'], dir);
    const doc = JSON.parse(json.stdout) as {
      report: Record<string, unknown> & { rules: Record<string, unknown>[]; days: Record<string, unknown>[] };
      events: { sealwatch: { outcome: string } }[];
    };
    expect(doc.report).toMatchObject({ total: 4, alerts: 2, responses: 2, others: 0 });
    expect(doc.report.bySeverity).toMatchObject({ high: 2 });
    expect(doc.report.rules).toEqual([
      expect.objectContaining({ id: 'exec-from-tmp', events: 4, alerts: 2, responses: { killed: 1, kill_failed: 1 } }),
    ]);
    expect(doc.report.days).toEqual([expect.objectContaining({ start: '2026-11-01', total: 2 })]);
    // Each response follows the alert it answers, even within the same millisecond.
    expect(doc.events.map((e) => e.sealwatch.outcome)).toEqual(['alerted', 'killed', 'alerted', 'kill_failed']);
    const md = await cli(['audit', 'report', '--events', 'kill.jsonl'], dir);
    expect(md.stdout).toContain('## Rule exec-from-tmp: Rule exec-from-tmp (2 alerts, 1 kill failed, 1 killed)');
    expect(md.stdout).toContain('| exec-from-tmp: Rule exec-from-tmp | 2 | 1 kill failed, 1 killed | 8 (high) |');
    const html = await cli(['audit', 'report', '--events', 'kill.jsonl', '--format', 'html'], dir);
    expect(html.stdout).toContain('<strong id="alerts">2</strong>');
    expect(html.stdout).toContain('<strong id="responses">2</strong>');
    expect(html.stdout).toContain('<title>2026-11-01T10:00Z high: 1</title>');
  });

  it('html: a one-day span is charted per hour, and every chart (legend included) fits its box', async () => {
    const rules = ['shell-spawned-by-non-shell', 'netcat-listener', 'exec-from-tmp', 'crypto-miner-pool'];
    const events = Array.from({ length: 40 }, (_, i) =>
      makeEvent(i, {
        at: new Date(Date.UTC(2026, 10, 5, 3 + (i % 9), i)).toISOString(),
        severity: [10, 8, 5, 2, 0][i % 5]!,
        ruleId: rules[i % rules.length]!,
        process: { pid: 100 + i, name: i % 2 ? 'nc' : 'xmrig', executable: i % 2 ? '/bin/busybox' : '/tmp/xmrig' },
        destination: i % 4 === 0 ? { ip: '203.0.113.7', port: 4444 } : undefined,
      }),
    );
    writeEvents(join(dir, 'day.jsonl'), events);
    const run = await cli(['audit', 'report', '--events', 'day.jsonl', '--format', 'html'], dir);
    const html = run.stdout;
    expect(html).toContain('Alerts per hour (UTC), 2026-11-05, by severity');
    expect(html).toContain('Alerts per hour (UTC), 2026-11-05, by rule');
    expect(html).toContain('<title>2026-11-05T03:00Z critical: 1</title>');
    const svgs = [...html.matchAll(/<svg[^>]*viewBox="0 0 (\d+) (\d+)"[^>]*>([\s\S]*?)<\/svg>/g)];
    expect(svgs).toHaveLength(4);
    for (const [, w, hgt, body] of svgs) {
      const width = Number(w);
      const height = Number(hgt);
      // Every left-anchored label ends inside the box (6.6 px per character is more than the font needs).
      for (const m of body!.matchAll(/<text x="([\d.]+)" y="([\d.]+)">([^<]*)<\/text>/g)) {
        const text = m[3]!.replace(/&#\d+;/g, '_');
        expect(Number(m[1]) + text.length * 6.6, text).toBeLessThanOrEqual(width);
        expect(Number(m[2]), text).toBeLessThanOrEqual(height);
      }
      for (const m of body!.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)) {
        expect(Number(m[1]) + Number(m[3])).toBeLessThanOrEqual(width);
        expect(Number(m[2]) + Number(m[4])).toBeLessThanOrEqual(height);
      }
    }
    // Legends: every severity, every rule.
    for (const label of ['critical', 'high', 'medium', 'low', 'info', ...rules])
      expect(html).toContain(`>${label}</text>`);
    // Top processes and destinations, with their counts.
    expect(html).toMatch(
      /<title>xmrig \(\/tmp\/xmrig\)<\/title>xmrig \(\/tmp\/xmrig\)<\/text><rect[^>]*\/><text[^>]*>20<\/text>/,
    );
    expect(html).toMatch(
      /<title>203\.0\.113\.7:4444<\/title>203\.0\.113\.7:4444<\/text><rect[^>]*\/><text[^>]*>10<\/text>/,
    );
  });

  it('--pub: the event record is verified in the same read and stated first; a deleted event is named, exit 1', async () => {
    // A log written by the real dispatcher with a record key: chained events and signed checkpoints.
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = parseSigningKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'test key');
    writeFileSync(join(dir, 'evidence.pub'), pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const log = join(dir, 'record.jsonl');
    const dispatcher = createDispatcher([parseOutputUrl(`file://${log}`)], {
      logger: silentLogger(),
      runId: 'run-1',
      record: { key, every: 4, seconds: 3600 },
    });
    for (let i = 1; i <= 10; i++) {
      const { sealwatch: _sw, ...alert } = makeEvent(i, { severity: 8, ruleId: 'netcat' });
      dispatcher.dispatch({ ...alert, sealwatch: { outcome: 'alerted', severity: 'high' } });
    }
    await dispatcher.close();
    const ok = await cli(['audit', 'report', '--events', 'record.jsonl', '--pub', 'evidence.pub'], dir);
    expect(ok.code, ok.stderr).toBe(0);
    const headline = ok.stdout.split('\n')[2]!;
    expect(headline).toMatch(/^\*\*Integrity: VERIFIED: events 1–1[34] verified against [34] signed checkpoints\*\*$/);
    expect(ok.stderr).toContain('Integrity: VERIFIED');
    expect(ok.stdout).toContain('| netcat: Rule netcat | 10 |');

    // Delete the fifth line: the report is still written, says what is missing and where, and exits 1.
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    writeFileSync(join(dir, 'cut.jsonl'), `${[...lines.slice(0, 4), ...lines.slice(5)].join('\n')}\n`);
    const cut = await cli(
      ['audit', 'report', '--events', 'cut.jsonl', '--pub', 'evidence.pub', '--format', 'html', '--out', 'cut.html'],
      dir,
    );
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain('Integrity: NOT VERIFIED: 1 problem in the event chain');
    const html = readFileSync(join(dir, 'cut.html'), 'utf8');
    expect(html).toContain(
      '<div class="integrity integrity-failed" id="integrity"><p>Integrity: NOT VERIFIED: 1 problem',
    );
    expect(html).toContain('run run-1: event seq 5 is missing before cut.jsonl:5');
    const json = await cli(
      ['audit', 'report', '--events', 'cut.jsonl', '--pub', 'evidence.pub', '--format', 'json'],
      dir,
    );
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { report: { integrity: { ok: boolean; problems: unknown[] } } };
    expect(doc.report.integrity.ok).toBe(false);
    expect(doc.report.integrity.problems).toEqual([expect.objectContaining({ kind: 'deleted', seq: 5, line: 5 })]);
    // Without --pub nothing is claimed.
    const unchecked = await cli(['audit', 'report', '--events', 'cut.jsonl'], dir);
    expect(unchecked.code).toBe(0);
    expect(unchecked.stdout).toContain('**Integrity: not checked');
  });

  it('reading threads give the same bytes as one thread: order, line numbers, bad lines, summary', async () => {
    const many = Array.from({ length: 3_000 }, (_, i) =>
      makeEvent(i, {
        at: new Date(Date.UTC(2026, 10, 1) + i * 61_000 + ((i * 7919) % 50_000)).toISOString(),
        severity: (i * 7) % 11,
        ruleId: ['netcat', 'tmp-exec', 'miner'][i % 3]!,
        process: { pid: 10 + (i % 40), name: `p${i % 40}`, executable: `/bin/p${i % 40}` },
        destination: i % 4 === 0 ? { ip: `203.0.113.${i % 9}`, port: 443 } : undefined,
      }),
    );
    writeEvents(join(dir, 'threads-a.jsonl'), many.slice(0, 2_000), {
      extraLines: ['{not json', '{"valid":"json but not an event"}', ' ', `{"message":"${'x'.repeat(1_100_000)}"}`],
    });
    writeEvents(join(dir, 'threads-b.jsonl'), many.slice(2_000).reverse(), { gzip: true });
    const render = async (format: 'md' | 'html' | 'csv' | 'json', threads: number): Promise<string> => {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      await runReport({
        files: ['threads-a.jsonl', 'threads-b.jsonl'].map((f) => ({ path: join(dir, f), source: f })),
        filter: { window: {}, rules: [], types: [], categories: [], minSeverity: 2, images: [], namespaces: [] },
        format,
        stdout: out,
        threads,
        chunkSize: 500,
      });
      return Buffer.concat(chunks).toString('utf8');
    };
    for (const format of ['json', 'html'] as const) {
      const one = await render(format, 1);
      expect(await render(format, 3), format).toBe(one);
      if (format === 'json') {
        const doc = JSON.parse(one) as { report: { inputs: Record<string, unknown>[]; total: number } };
        expect(doc.report.inputs[0]).toMatchObject({
          lines: 2_004,
          events: 2_000,
          badLines: 3,
          badReasons: { 'not-json': 1, 'not-event': 1, 'too-long': 1 },
          firstBadLines: [2, 3, 5],
        });
        expect(doc.report.inputs[1]).toMatchObject({ gzip: true, events: 1_000, badLines: 0 });
      }
    }
  }, 60_000);
});
