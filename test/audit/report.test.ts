import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { runReport } from '../../audit/index.ts';
import { cli, makeEvent, writeEvents } from './events-fixture.ts';

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
    expect(run.stdout).toContain('- Input: a.jsonl: 6 event(s), 2 bad line(s) skipped (line 2, 3)');
    expect(run.stdout).toContain('| critical | 2 |');
    expect(run.stdout).toContain('| high | 1 |');
    expect(run.stdout).toContain('| 2026-11-01 | 3 |');
    expect(run.stdout).toMatch(/## Rule netcat: Rule netcat \(2 events\)/);
    expect(run.stdout).toContain('127.0.0.1:4444 → evil.example:443 (egress)');
    // the hostile name never appears raw
    expect(run.stdout).not.toContain('<script>');
    expect(run.stdout).not.toContain('<img');
    expect(run.stderr).toContain('2 bad line(s) skipped');
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
    expect(run.stdout).toContain('Events in report: 2 (4 outside the window or filters)');
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

  it('--progress draws a progress bar on stderr; without a TTY there is none by default', async () => {
    const shown = await cli(['audit', 'report', '--events', 'a.jsonl', '--progress', '--format', 'csv'], dir);
    expect(shown.stderr).toMatch(/\ra\.jsonl \[#{30}\] 100% .* 6 events/);
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
});
