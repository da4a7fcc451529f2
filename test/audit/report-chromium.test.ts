import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../harness/exec.ts';
import { cli, killOf, makeEvent, writeEvents } from './events-fixture.ts';

function which(...names: string[]): string | undefined {
  for (const name of names) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path !== '') return path;
    } catch {
      // not installed: try the next name
    }
  }
  return undefined;
}

const chromium = which('chromium', 'chromium-browser');
const pdftotext = which('pdftotext');

/**
 * Without Chromium (Debian `chromium`) and poppler (`poppler-utils`, to read the printed PDF) these
 * tests skip with one line saying why; with SEALWATCH_REQUIRE_CHROMIUM=1 (set by .ci/run) that is a
 * failure.
 */
function describeChromium(name: string, fn: () => void): void {
  if (chromium && pdftotext) {
    describe(name, fn);
    return;
  }
  const why = `needs chromium and pdftotext on PATH (apt-get install chromium poppler-utils)`;
  if (process.env.SEALWATCH_REQUIRE_CHROMIUM === '1') {
    describe(name, () => {
      it('needs chromium', () => {
        throw new Error(`SEALWATCH_REQUIRE_CHROMIUM=1 but ${why}`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${why})`, fn);
}

/** Headless Chromium with no network use (no background networking, updates or sync) and a fresh profile. */
async function chromiumRun(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'audit-chromium-'));
  try {
    const result = await run(
      chromium!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { timeout: 90_000 },
    );
    if (result.code !== 0) throw new Error(`chromium exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The colors present in a PNG screenshot, as `#rrggbb`. */
function colorsOf(file: string): Set<string> {
  const png = PNG.sync.read(readFileSync(file));
  const colors = new Set<string>();
  for (let i = 0; i < png.data.length; i += 4) {
    colors.add(
      `#${[png.data[i]!, png.data[i + 1]!, png.data[i + 2]!].map((c) => c.toString(16).padStart(2, '0')).join('')}`,
    );
  }
  return colors;
}

const SEVERITY_COLORS = { critical: '#b91c1c', high: '#ea580c', medium: '#ca8a04', low: '#2563eb', info: '#6b7280' };

describeChromium('audit report html in headless Chromium, as an auditor opens and prints it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-html-'));
  afterAll(() => {
    if (process.env.KEEP_AUDIT_HTML === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log(dir);
  });

  it('renders the key figures, runs no attacker script and prints to PDF', async () => {
    writeEvents(join(dir, 'events.jsonl'), [
      makeEvent(1, { severity: 10, ruleId: 'netcat' }),
      makeEvent(2, { severity: 8, ruleId: 'netcat' }),
      makeEvent(3, {
        severity: 4,
        ruleId: 'tmp-exec',
        process: {
          pid: 77,
          name: '<script>document.title="pwned"</script>',
          args: ['"><img src=x onerror="document.title=1">'],
        },
      }),
      makeEvent(4, { severity: 1, at: '2026-11-02T12:00:00.000Z' }),
    ]);
    const made = await cli(
      ['audit', 'report', '--events', 'events.jsonl', '--format', 'html', '--out', 'report.html'],
      dir,
    );
    expect(made.code, made.stderr).toBe(0);
    const url = `file://${join(dir, 'report.html')}`;

    const dom = await chromiumRun(['--dump-dom', url]);
    // Figures as the browser sees them after parsing: totals, per-severity counts, per-rule counts.
    expect(dom).toContain('<strong id="total">4</strong>');
    expect(dom).toContain('<title>sealwatch audit report</title>');
    expect(dom).toContain('Rule netcat: Rule netcat (2 alerts)');
    expect(dom).toContain('Rule tmp-exec: Rule tmp-exec (1 alert)');
    expect(dom).toContain('<title>2026-11-01T10:00Z critical: 1</title>');
    // The hostile process name is text, not markup: no script or img element exists in the DOM.
    expect(dom).not.toMatch(/<script|<img/i);
    expect(dom).toContain('&lt;script&gt;document.title="pwned"&lt;/script&gt;');

    const pdf = join(dir, 'report.pdf');
    await chromiumRun([`--print-to-pdf=${pdf}`, '--no-pdf-header-footer', url]);
    const bytes = readFileSync(pdf);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('one day: the charts are per hour and their legends are drawn whole, even on a narrow page', async () => {
    // Every alert critical: the other severities' colors can only come from the legend.
    const rules = ['shell-spawned-by-non-shell', 'netcat-listener', 'exec-from-tmp'];
    writeEvents(
      join(dir, 'day.jsonl'),
      Array.from({ length: 12 }, (_, i) =>
        makeEvent(i, { at: new Date(Date.UTC(2026, 10, 5, 9 + i)).toISOString(), severity: 10, ruleId: rules[i % 3]! }),
      ),
    );
    const made = await cli(['audit', 'report', '--events', 'day.jsonl', '--format', 'html', '--out', 'day.html'], dir);
    expect(made.code, made.stderr).toBe(0);
    const html = readFileSync(join(dir, 'day.html'), 'utf8');
    expect(html).toContain('Alerts per hour (UTC), 2026-11-05, by severity');
    // The first chart alone, in the report's own head (styles, CSP), on a page 420 px wide.
    const chart = /<figure class="chart">[\s\S]*?<\/figure>/.exec(html)![0];
    const page = html.replace(/<body>[\s\S]*<\/body>/, `<body>${chart}</body>`);
    writeFileSync(join(dir, 'chart.html'), page);
    const png = join(dir, 'chart.png');
    await chromiumRun(['--window-size=420,600', `--screenshot=${png}`, `file://${join(dir, 'chart.html')}`]);
    const colors = colorsOf(png);
    for (const [label, color] of Object.entries(SEVERITY_COLORS)) expect(colors.has(color), label).toBe(true);
  });

  it('several weeks: prints on A4 with the summary first and the event listing from a new page', async () => {
    const events = Array.from({ length: 300 }, (_, i) => {
      const alert = makeEvent(2 * i, {
        at: new Date(Date.UTC(2026, 9, 1) + i * 3 * 3_600_000).toISOString(),
        severity: [10, 8, 5, 2, 0][i % 5]!,
        ruleId: ['netcat', 'tmp-exec', 'miner', 'egress'][i % 4]!,
        destination: i % 3 === 0 ? { ip: '203.0.113.7', port: 4444 } : undefined,
      });
      return i % 10 === 0 ? [alert, killOf(alert, 2 * i + 1)] : [alert];
    }).flat();
    writeEvents(join(dir, 'weeks.jsonl'), events);
    const made = await cli(
      ['audit', 'report', '--events', 'weeks.jsonl', '--format', 'html', '--out', 'weeks.html'],
      dir,
    );
    expect(made.code, made.stderr).toBe(0);
    const url = `file://${join(dir, 'weeks.html')}`;
    const png = join(dir, 'weeks.png');
    await chromiumRun(['--window-size=1200,1400', `--screenshot=${png}`, url]);
    const colors = colorsOf(png);
    for (const [label, color] of Object.entries(SEVERITY_COLORS)) expect(colors.has(color), label).toBe(true);

    const pdf = join(dir, 'weeks.pdf');
    await chromiumRun([`--print-to-pdf=${pdf}`, '--no-pdf-header-footer', url]);
    expect(existsSync(pdf)).toBe(true);
    const text = (await run(pdftotext!, ['-layout', pdf, '-'])).stdout;
    const pages = text.split('\f').filter((p) => p.trim() !== '');
    expect(pages.length).toBeGreaterThan(2);
    expect(pages[0]).toContain('Integrity: not checked');
    expect(pages[0]).toContain('Alerts per day (UTC), by severity');
    // The listing starts a page of its own.
    const listing = pages.findIndex((p) => p.includes('Events by rule'));
    expect(listing).toBeGreaterThan(0);
    expect(pages[listing]!.trim().startsWith('Events by rule')).toBe(true);
    expect(text).toContain('Rule netcat: Rule netcat (75 alerts, 15 killed)');
  });
});
