import { Worker } from 'node:worker_threads';
import { threadCode } from '../../shared/threads/index.ts';
import type { ExternalSorter } from './external-sort.ts';
import type { BlockResult, BlockTask, ThreadSetup } from './read-thread.ts';
import {
  BAD_LINE_REASONS,
  countBadLine,
  readBlocks,
  type InputStats,
  type OpenInput,
  type ReadProgress,
} from './read-events.ts';
import type { SummaryBuilder } from './summary.ts';

/** The reading thread as scripts/build.mjs writes it into dist/ (beside cli.mjs). */
export const READ_THREAD_BUNDLE = 'audit-report-thread.cjs';

/** Extra room in each block's memory, so that it is used again for the next reads whatever their tails. */
const BLOCK_HEADROOM = 1 << 16;

/** Blocks in flight per thread: enough to keep each busy while this thread applies results. */
const IN_FLIGHT_PER_THREAD = 3;

interface Pending {
  input: OpenInput;
  /** undefined: a line too long to read (no thread needed). */
  result: Promise<BlockResult> | undefined;
}

/**
 * `audit report`'s read, spread over `threads` reading threads (read-thread.ts): this thread reads
 * the files into blocks of whole lines (the line cap applies here, as in one thread), hands them out
 * in turn, and applies the answers strictly in block order: line numbers, bad lines, summary parts
 * and kept events come out exactly as one thread would make them. Memory stays bounded: at most
 * `threads × 3` blocks (about 1 MiB each) are in flight.
 */
export async function readInThreads(options: {
  files: readonly { path: string; source: string }[];
  stats: InputStats[];
  setup: ThreadSetup;
  threads: number;
  builder: SummaryBuilder;
  sorter: ExternalSorter;
  onProgress?: (progress: ReadProgress) => void;
}): Promise<void> {
  const code = await threadCode(import.meta.url, 'read-thread.ts', READ_THREAD_BUNDLE);
  const workers = Array.from({ length: options.threads }, () =>
    'file' in code
      ? new Worker(code.file, { workerData: options.setup, execArgv: [] })
      : new Worker(code.code, { eval: true, workerData: options.setup, execArgv: [] }),
  );
  const waiting = new Map<number, { resolve: (r: BlockResult) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  let closing = false;
  const fail = (error: Error): void => {
    if (closing) return;
    failure ??= error;
    for (const { reject } of waiting.values()) reject(failure);
    waiting.clear();
  };
  for (const worker of workers) {
    worker.on('message', (result: BlockResult) => {
      waiting.get(result.id)?.resolve(result);
      waiting.delete(result.id);
    });
    worker.on('error', (error) => fail(error));
    worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`audit report: a reading thread exited with code ${code}`));
    });
  }
  const queue: Pending[] = [];
  /** Batch buffers whose records were sorted, handed back to the threads with the next blocks. */
  const spares: ArrayBuffer[] = [];
  /** The blocks' memory, handed back by the threads: the next reads go into it. */
  const blockMemory: ArrayBuffer[] = [];
  const newBuffer = (size: number): Buffer => {
    const memory = blockMemory.pop();
    if (memory !== undefined && memory.byteLength >= size) return Buffer.from(memory);
    // Room for a longer tail next time: a block's size is a read plus the tail of the line before it.
    return Buffer.allocUnsafeSlow(size + BLOCK_HEADROOM);
  };
  let nextId = 0;
  const apply = async (): Promise<void> => {
    const { input, result } = queue.shift()!;
    const { stat, fileIndex } = input;
    if (result === undefined) {
      stat.lines++;
      countBadLine(stat, 'too-long', stat.lines);
      return;
    }
    const r = await result;
    const base = stat.lines;
    stat.lines += r.lines;
    stat.events += r.events;
    for (let i = 0; i < r.bad.length; i += 2) countBadLine(stat, BAD_LINE_REASONS[r.bad[i + 1]!]!, base + r.bad[i]!);
    options.builder.absorb(r.part);
    // The memory of batches the sorter no longer reads goes back to a thread for a next batch.
    spares.push(...options.sorter.addBatch(r.records, fileIndex, base));
    blockMemory.push(r.block);
  };
  try {
    await readBlocks(
      options.files,
      options.stats,
      async (input, block) => {
        if (failure) throw failure;
        if (block === undefined) {
          queue.push({ input, result: undefined });
        } else {
          const id = nextId++;
          // The block has its memory to itself (readBlocks reads each into a buffer of its own): it moves to the thread.
          const data = new Uint8Array(block.buffer as ArrayBuffer, block.byteOffset, block.length);
          const result = new Promise<BlockResult>((resolve, reject) => waiting.set(id, { resolve, reject }));
          result.catch(() => undefined); // awaited in order by apply(); a failure is reported there
          const spare = spares.pop();
          const task: BlockTask = spare ? { id, data, spare } : { id, data };
          workers[id % workers.length]!.postMessage(task, spare ? [data.buffer, spare] : [data.buffer]);
          queue.push({ input, result });
        }
        while (queue.length > workers.length * IN_FLIGHT_PER_THREAD) await apply();
      },
      options.onProgress,
      options.setup.maxLineBytes,
      newBuffer,
    );
    while (queue.length > 0) await apply();
  } finally {
    closing = true;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
