import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../harness/exec.ts';
import { cli, makeEvent, writeEvents } from './events-fixture.ts';

function chromiumPath(): string | undefined {
  try {
    return (
      execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

const chromium = chromiumPath();
const describeChromium = chromium ? describe : describe.skip;

/** Headless Chromium with no network use, a fresh profile, and our flags from ENVIRONMENT.md. */
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
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { timeout: 60_000 },
    );
    if (result.code !== 0) throw new Error(`chromium exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describeChromium(
  `audit report html in headless Chromium${chromium ? '' : ' (skipped: chromium not installed)'}`,
  () => {
    it('renders the key figures, runs no attacker script and prints to PDF', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'audit-html-'));
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
      expect(dom).toMatch(/Rule netcat: Rule netcat \(2 events\)/);
      expect(dom).toMatch(/Rule tmp-exec: Rule tmp-exec \(1 event\)/);
      expect(dom).toContain('<title>2026-11-01 critical: 1</title>');
      // The hostile process name is text, not markup: no script or img element exists in the DOM.
      expect(dom).not.toMatch(/<script|<img/i);
      expect(dom).toContain('&lt;script&gt;document.title="pwned"&lt;/script&gt;');

      const pdf = join(dir, 'report.pdf');
      await chromiumRun([`--print-to-pdf=${pdf}`, '--no-pdf-header-footer', url]);
      const bytes = readFileSync(pdf);
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(bytes.length).toBeGreaterThan(2000);
    });
  },
);
