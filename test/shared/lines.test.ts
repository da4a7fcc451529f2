import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forEachLine, splitBlocks, type ReadInto } from '../../shared/text/index.ts';

/** A deterministic pseudo-random sequence (LCG), so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Lines of random lengths around `maxBytes` (some longer), multi-byte characters included, some empty. */
function sampleLines(seed: number, count: number, maxBytes: number): string[] {
  const rand = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const length = Math.floor(rand() * rand() * maxBytes * 2.5);
    return `${i}:${'é'.repeat(Math.floor(length / 4))}${'x'.repeat(length - 2 * Math.floor(length / 4))}`.slice(
      0,
      Math.max(0, length),
    );
  });
}

/** What splitBlocks and forEachLine must give: each line, or undefined for one longer than `maxBytes`. */
function expected(lines: string[], maxBytes: number): (string | undefined)[] {
  return lines.map((l) => (Buffer.byteLength(l) > maxBytes ? undefined : l));
}

/** Reads `data` in pieces of random sizes, as a file's reads or a stream's chunks might come. */
function reader(data: Buffer, seed: number): ReadInto {
  const rand = random(seed);
  let at = 0;
  return (buffer, offset, length) => {
    const n = Math.min(length, data.length - at, 1 + Math.floor(rand() * 40));
    data.copy(buffer, offset, at, at + n);
    at += n;
    return Promise.resolve(n);
  };
}

/** The same as a stream's chunks of random sizes. */
function chunks(data: Buffer, seed: number): AsyncIterable<Buffer> {
  const rand = random(seed);
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length;) {
    const n = 1 + Math.floor(rand() * 90);
    pieces.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(pieces);
}

async function split(
  input: Parameters<typeof splitBlocks>[0],
  maxBytes: number,
  readBytes: number,
): Promise<{ lines: (string | undefined)[]; blocks: Buffer[]; handed: string[] }> {
  const lines: (string | undefined)[] = [];
  const blocks: Buffer[] = [];
  /** Each block's bytes when it was handed over. */
  const handed: string[] = [];
  await splitBlocks(
    input,
    maxBytes,
    (block) => {
      if (block === undefined) {
        lines.push(undefined);
        return;
      }
      blocks.push(block);
      handed.push(block.toString('latin1'));
      forEachLine(block, maxBytes, (line) => lines.push(line));
    },
    { readBytes },
  );
  return { lines, blocks, handed };
}

describe('splitBlocks', () => {
  const maxBytes = 50;
  for (const seed of [1, 2, 3]) {
    const lines = sampleLines(seed, 400, maxBytes);
    for (const ending of ['\n', '']) {
      const data = Buffer.from(lines.join('\n') + ending);
      it(`seed ${seed}${ending === '' ? ', no final LF' : ''}: every line once, in order; a line over the cap as undefined`, async () => {
        const want = expected(lines, maxBytes);
        for (const readBytes of [16, 64, 1000]) {
          const fromReads = await split(reader(data, seed), maxBytes, readBytes);
          expect(fromReads.lines).toEqual(want);
          const fromChunks = await split(chunks(data, seed), maxBytes, readBytes);
          expect(fromChunks.lines).toEqual(want);
        }
      });
    }
  }

  it('each block has memory of its own, never written again: a consumer may keep it or move it', async () => {
    const lines = sampleLines(7, 300, 40);
    const data = Buffer.from(`${lines.join('\n')}\n`);
    const { blocks, handed } = await split(reader(data, 7), 40, 32);
    // Read after everything was split: each block still holds what it held when it was handed over.
    expect(blocks.map((b) => b.toString('latin1'))).toEqual(handed);
    expect(new Set(blocks.map((b) => b.buffer)).size).toBe(blocks.length);
  });
});
