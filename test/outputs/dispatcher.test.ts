import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Event } from '../../shared/events/index.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { waitFor } from '../harness/wait.ts';
import { hostileEvent, HOSTILE, plainEvent } from './events.ts';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('dispatcher', () => {
  it('stamps run_id and increasing seq, writes JSONL to a file and to stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-disp-'));
    const out = capture();
    const d = createDispatcher([parseOutputUrl(`file://${dir}/events.jsonl`), parseOutputUrl('stdout://')], {
      logger: silentLogger(),
      runId: 'run-1',
      version: '9.9.9',
      stdout: out.stream,
    });
    const returned = [d.dispatch(plainEvent(1)), d.dispatch(plainEvent(9)), d.dispatch(hostileEvent(HOSTILE.crlf))];
    expect(returned.map((e) => e.sealwatch.seq)).toEqual([1, 2, 3]);
    await d.close();
    const fileLines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trimEnd().split('\n');
    const stdoutLines = out.text().trimEnd().split('\n');
    for (const lines of [fileLines, stdoutLines]) {
      expect(lines).toHaveLength(3);
      const events = lines.map((l) => Event.parse(JSON.parse(l)));
      expect(events.map((e) => [e.sealwatch.run_id, e.sealwatch.seq, e.sealwatch.version])).toEqual([
        ['run-1', 1, '9.9.9'],
        ['run-1', 2, '9.9.9'],
        ['run-1', 3, '9.9.9'],
      ]);
      expect(events[2]!.message).toBe(HOSTILE.crlf);
    }
    const stats = d.stats();
    expect(stats.map((s) => s.sent)).toEqual([3, 3]);
  });

  it('filters each output by its own min-severity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-disp-'));
    const d = createDispatcher(
      [
        parseOutputUrl(`file://${dir}/all.jsonl`),
        parseOutputUrl(`file://${dir}/high.jsonl?min-severity=high`),
        parseOutputUrl(`file://${dir}/crit.jsonl?min-severity=9`),
      ],
      { logger: silentLogger() },
    );
    for (const s of [0, 3, 6, 7, 8, 9, 10]) d.dispatch(plainEvent(s));
    await d.close();
    const severities = (f: string): number[] =>
      readFileSync(join(dir, f), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { event: { severity: number } }).event.severity);
    expect(severities('all.jsonl')).toEqual([0, 3, 6, 7, 8, 9, 10]);
    expect(severities('high.jsonl')).toEqual([7, 8, 9, 10]);
    expect(severities('crit.jsonl')).toEqual([9, 10]);
  });

  it('keeps delivering to the other outputs when one fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-disp-'));
    const broken = new PassThrough();
    const d = createDispatcher([parseOutputUrl('stdout://'), parseOutputUrl(`file://${dir}/ok.jsonl`)], {
      logger: silentLogger(),
      stdout: broken,
    });
    broken.destroy(new Error('EPIPE'));
    await waitFor('the stdout output to see its stream fail', () => d.stats()[0]!.connected === false);
    for (let i = 0; i < 5; i++) d.dispatch(plainEvent(5));
    await d.close();
    expect(readFileSync(join(dir, 'ok.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(5);
    const [stdoutStats, fileStats] = d.stats();
    expect(stdoutStats!.sent).toBe(0);
    expect(stdoutStats!.dropped).toBeGreaterThan(0);
    expect(fileStats!.sent).toBe(5);
  });

  it('rotates the JSONL file by size and loses no line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-disp-'));
    const d = createDispatcher([parseOutputUrl(`file://${dir}/ev.jsonl?rotate-mb=1`)], { logger: silentLogger() });
    const big = 'x'.repeat(20_000);
    for (let i = 0; i < 120; i++) {
      d.dispatch(plainEvent(5, big));
      if (i % 10 === 0) await d.flush();
    }
    await d.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['ev.jsonl', 'ev.jsonl.1', 'ev.jsonl.2']);
    const seqs = files
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n'))
      .map((l) => (JSON.parse(l) as { sealwatch: { seq: number } }).sealwatch.seq)
      .sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    for (const f of files) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(1024 * 1024);
  });
});
