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

function record(i: number, ms: number, group = '', rank = 0): SortRecord {
  // Texts with line breaks, multi-byte characters and lone surrogates-free emoji: the spill format frames by length.
  return {
    group,
    ms,
    rank,
    id: `id-${String(i % 97).padStart(3, '0')}`,
    fileIndex: Math.floor(i / 100) % 3,
    line: i,
    text: `row ${i}\n€ ✓ 🚀 "q"\r\n`,
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
function sortAll(records: SortRecord[], chunkSize: number): string[] {
  const sorter = new ExternalSorter(chunkSize);
  const batch = new RecordBatch(64);
  for (let i = 0; i < records.length;) {
    const { fileIndex, line: base } = records[i]!;
    for (; i < records.length && records[i]!.fileIndex === fileIndex; i++) {
      const r = records[i]!;
      batch.add(r.group, r.ms, r.rank, r.id, r.line - base, r.text);
    }
    const taken = batch.take();
    sorter.addBatch(taken, fileIndex, base);
    batch.reuse(taken.bytes.buffer);
  }
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
  }
});
