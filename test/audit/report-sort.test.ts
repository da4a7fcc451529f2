import { describe, expect, it } from 'vitest';
import { ExternalSorter, RecordBatch, type SortRecord } from '../../audit/report/external-sort.ts';

/** A deterministic pseudo-random sequence (LCG), so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function record(i: number, ms: number, group = '', rank = 0, pad = 0): SortRecord {
  // Texts with line breaks, multi-byte characters and lone surrogates-free emoji: the spill format frames by length.
  return {
    group,
    ms,
    rank,
    id: `id-${String(i % 97).padStart(3, '0')}`,
    fileIndex: Math.floor(i / 100) % 3,
    line: i,
    text: `row ${i}\n€ ✓ 🚀 "q"${'.'.repeat(pad)}\r\n`,
  };
}

function key(r: { group: string; text: string | Buffer }): string {
  return JSON.stringify([r.group, r.text.toString()]);
}

function expected(records: SortRecord[]): string[] {
  return [...records]
    .sort(
      (a, b) =>
        (a.group < b.group ? -1 : a.group > b.group ? 1 : 0) ||
        a.ms - b.ms ||
        a.rank - b.rank ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
        a.fileIndex - b.fileIndex ||
        a.line - b.line,
    )
    .map(key);
}

/** Batches of consecutive records of one file, as the reading threads make them (lines counted from the batch's first). */
function fill(records: SortRecord[], chunkSize: number): ExternalSorter {
  const sorter = new ExternalSorter(chunkSize);
  const batch = new RecordBatch(64);
  for (let i = 0; i < records.length;) {
    const { fileIndex, line: base } = records[i]!;
    for (; i < records.length && records[i]!.fileIndex === fileIndex; i++) {
      const r = records[i]!;
      batch.add(r.group, r.ms, r.rank, r.id, r.line - base, r.text);
    }
    for (const memory of sorter.addBatch(batch.take(), fileIndex, base)) batch.reuse(memory);
  }
  return sorter;
}

function sortAll(records: SortRecord[], chunkSize: number): string[] {
  const sorter = fill(records, chunkSize);
  // The sorter reuses the object it yields, and its bytes are valid until the next one: read each at once.
  const out: string[] = [];
  for (const item of sorter.sorted()) out.push(key(item));
  return out;
}

describe('audit report external sorter', () => {
  const rand = random(42);
  const n = 2_000;
  const cases: Record<string, SortRecord[]> = {
    'in order': Array.from({ length: n }, (_, i) => record(i, 1_000 + i)),
    // Runs larger than their buffers: written to files and read back.
    'in order, large texts, three groups': Array.from({ length: n }, (_, i) =>
      record(i, 1_000 + i, `g${i % 3}`, 0, 1_200 + (i % 900)),
    ),
    // A rule seen rarely, all in one millisecond, ids falling, behind the others: its run's last record is
    // from a batch long reused when the next one is compared with it (by id, never read before).
    'a rare group in one millisecond, falling ids': Array.from({ length: n }, (_, i) =>
      i % 300 === 0 ? { ...record(i, 5, 'a'), id: `id-${String(n - i).padStart(5, '0')}` } : record(i, 1_000 + i, 'b'),
    ),
    'nearly in order (jitter)': Array.from({ length: n }, (_, i) =>
      record(i, 1_000 + i * 10 + Math.floor(rand() * 300)),
    ),
    reversed: Array.from({ length: n }, (_, i) => record(i, 1_000_000 - i)),
    random: Array.from({ length: n }, (_, i) => record(i, Math.floor(rand() * 1_000))),
    'many equal keys': Array.from({ length: n }, (_, i) => record(i, 7, 'g', i % 2)),
    'two files one after the other': [
      ...Array.from({ length: n / 2 }, (_, i) => record(i, 1_000 + 2 * i)),
      ...Array.from({ length: n / 2 }, (_, i) => record(n + i, 1_001 + 2 * i)),
    ],
    // More groups than there are runs: the rest go through sorted chunks.
    'grouped, 100 interleaved groups': Array.from({ length: n }, (_, i) =>
      record(i, 1_000 + i, `rule-${String((i * 37) % 100).padStart(3, '0')}\n`),
    ),
  };
  for (const [name, records] of Object.entries(cases)) {
    it(`${name}: the same order in memory and through spilled runs and chunks`, () => {
      const want = expected(records);
      expect(sortAll(records, 1_000_000)).toEqual(want);
      expect(sortAll(records, 50)).toEqual(want);
      expect(sortAll(records, 7)).toEqual(want);
    });
    it(`${name}: when no record came out of order, each group's texts copied in bulk are the same bytes`, () => {
      // Every group's texts, concatenated: what a report writes when nothing goes between events.
      const want = new Map<string, string>();
      for (const k of expected(records)) {
        const [group, text] = JSON.parse(k) as [string, string];
        want.set(group, (want.get(group) ?? '') + text);
      }
      for (const chunkSize of [1_000_000, 50]) {
        const sorter = fill(records, chunkSize);
        const groups = sorter.inOrder();
        if (groups === undefined) {
          // Stragglers: only the merge gives the order.
          expect(name).not.toMatch(/^in order/);
          sorter.cleanup();
          continue;
        }
        // Each piece is valid until the next: copied at once.
        const got = new Map<string, string>();
        for (const g of groups) {
          const pieces: Buffer[] = [];
          for (const piece of g.bytes()) pieces.push(Buffer.from(piece));
          got.set(g.group, Buffer.concat(pieces).toString());
        }
        sorter.cleanup();
        expect([...got.keys()]).toEqual([...want.keys()]);
        expect(got).toEqual(want);
      }
    });
  }
});
