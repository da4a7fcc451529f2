import { describe, expect, it } from 'vitest';
import { describeIntegrity } from '../../audit/report/integrity.ts';
import type { LogVerifyResult } from '../../audit/verify-log/index.ts';
import { createHtmlRenderer } from '../../audit/report/render-html.ts';
import { createMarkdownRenderer } from '../../audit/report/render-md.ts';
import { SummaryBuilder } from '../../audit/report/summary.ts';
import { TopCounter } from '../../audit/report/top-counter.ts';
import { makeEvent } from './events-fixture.ts';

describe('top counter', () => {
  it('is exact while the distinct values fit', () => {
    const counter = new TopCounter(10);
    for (let i = 0; i < 15; i++) for (let j = 0; j <= i; j++) counter.add(`v${i}`);
    const list = counter.result(3);
    expect(list).toEqual({
      top: [
        { key: 'v14', count: 15 },
        { key: 'v13', count: 14 },
        { key: 'v12', count: 13 },
      ],
      distinct: 15,
      maxError: 0,
    });
  });

  it('keeps the heavy hitters of a stream of distinct values in bounded memory, counts within the stated error', () => {
    const counter = new TopCounter(50);
    const truth = new Map<string, number>();
    const add = (key: string): void => {
      counter.add(key);
      truth.set(key, (truth.get(key) ?? 0) + 1);
    };
    for (let i = 0; i < 20_000; i++) {
      add(`noise-${i}`); // 20,000 values seen once
      if (i % 10 === 0) add('heavy'); // 2,000
      if (i % 25 === 0) add('second'); // 800
    }
    const list = counter.result(2);
    expect(list.top.map((t) => t.key)).toEqual(['heavy', 'second']);
    expect(list.maxError).toBeGreaterThan(0);
    for (const { key, count } of list.top) {
      expect(count).toBeLessThanOrEqual(truth.get(key)!);
      expect(count).toBeGreaterThanOrEqual(truth.get(key)! - list.maxError);
    }
  });
});

describe('integrity header', () => {
  const verified: LogVerifyResult = {
    ok: true,
    runs: [{ runId: 'r-1', firstSeq: 1, lastSeq: 48_213, events: 48_213, checkpoints: 97, lastCheckpointSeq: 48_213 }],
    problems: [],
    unchained: 0,
    unreadable: 0,
    duplicates: 0,
    contentUnverified: 0,
  };
  const failed: LogVerifyResult = {
    ok: false,
    runs: [{ runId: 'r-1', firstSeq: 1, lastSeq: 900, events: 897, checkpoints: 2, lastCheckpointSeq: 800 }],
    problems: [
      {
        kind: 'deleted',
        runId: 'r-1',
        seq: 120,
        toSeq: 122,
        file: 'events.jsonl',
        line: 119,
        message: 'events 120–122 of run r-1 are missing (between events.jsonl:119 and :120)',
      },
      {
        kind: 'changed',
        runId: 'r-1',
        seq: 300,
        message: 'event 300 of run r-1 was changed <b>after</b> it was chained',
      },
    ],
    unchained: 0,
    unreadable: 0,
    duplicates: 0,
    contentUnverified: 0,
  };

  it('states what verified, what failed and where, or that nothing was checked', () => {
    expect(describeIntegrity(verified).headline).toBe(
      'Integrity: VERIFIED: events 1–48,213 verified against 97 signed checkpoints',
    );
    const bad = describeIntegrity(failed);
    expect(bad.verdict).toBe('failed');
    expect(bad.headline).toBe('Integrity: NOT VERIFIED: 2 problems in the event chain');
    expect(bad.details).toEqual([
      'events 120–122 of run r-1 are missing (between events.jsonl:119 and :120)',
      'event 300 of run r-1 was changed <b>after</b> it was chained',
      'run r-1: events 1–900 verified against 2 signed checkpoints; 100 event(s) after the last checkpoint (seq 800) are chained but not yet signed',
    ]);
    expect(describeIntegrity(undefined).verdict).toBe('not-checked');
  });

  it('is the first thing the html and md reports say, escaped', () => {
    const builder = new SummaryBuilder();
    builder.add(makeEvent(1), Date.UTC(2026, 10, 1, 10, 1));
    for (const [result, verdict] of [
      [verified, 'verified'],
      [failed, 'failed'],
      [undefined, 'not-checked'],
    ] as const) {
      const summary = { ...builder.finish({}, [], []), ...(result ? { integrity: result } : {}) };
      const html = createHtmlRenderer().begin(summary);
      const box = /<div class="integrity integrity-([a-z-]+)" id="integrity"><p>([^<]*)<\/p>/.exec(html);
      expect(box?.[1]).toBe(verdict);
      expect(box?.[2]).toBe(describeIntegrity(result).headline);
      expect(html.indexOf('id="integrity"')).toBeLessThan(html.indexOf('id="alerts"'));
      const md = createMarkdownRenderer().begin(summary);
      expect(md.split('\n')[2]).toBe(`**${describeIntegrity(result).headline}**`);
    }
    const html = createHtmlRenderer().begin({ ...builder.finish({}, [], []), integrity: failed });
    expect(html).toContain('<li>event 300 of run r-1 was changed &#60;b&#62;after&#60;/b&#62; it was chained</li>');
  });
});
