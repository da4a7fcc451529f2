import { createWriteStream, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { EnvironmentError, errnoCode } from '../../shared/errors/index.ts';
import type { LogVerifyResult } from '../verify-log/index.ts';
import { distFile } from '../../shared/threads/index.ts';
import { PREBUILT_EVENT_CHECK } from './event-check.ts';
import { ExternalSorter, RecordBatch } from './external-sort.ts';
import { describeFilter, type EventFilter } from './filter.ts';
import { createPassOne, RENDERERS } from './pass-one.ts';
import { readInThreads } from './read-parallel.ts';
import {
  isGzipFile,
  MAX_LINE_BYTES,
  readEvents,
  type InputStats,
  type LineObserver,
  type ReadProgress,
} from './read-events.ts';
import type { ReportFormat } from './renderer.ts';
import { SummaryBuilder, type ReportSummary } from './summary.ts';

export { RENDERERS } from './pass-one.ts';

export interface ReportRequest {
  files: readonly { path: string; source: string }[];
  filter: EventFilter;
  format: ReportFormat;
  /** Write here (a temp file beside it, renamed when complete); undefined: write to `stdout`. */
  outFile?: string;
  stdout: NodeJS.WritableStream;
  /** Hears each file's bytes read and events so far, now and then and at its end (the CLI draws a progress line). */
  onProgress?: (progress: ReadProgress) => void;
  /** Events held in memory before a sorted chunk spills to a temp file. */
  chunkSize?: number;
  /** Verifies the event record (hash chain, signed checkpoints) in the same read; its result heads the report. */
  verifier?: LineObserver & { finish(): LogVerifyResult };
  /** Reading threads; default: one per idle core and one for this one (at most 4) for 32 MiB or more, else 1. */
  threads?: number;
}

/**
 * Below this much input (gzip counted 8 times its size), starting reading threads costs more than it
 * saves. Threads only pay on idle cores: on a busy machine they share the same CPU time and add their
 * start and hand-over costs, so the default counts the cores the load average leaves idle, plus the one
 * this report runs on anyway (the reading threads take its parsing; a load of 1 is often the shell's last
 * command, this report's own earlier run). On 2 cores at a load of about 2, 2 threads read 1M events
 * in 4.4–5.3 s, 1 thread in 8.3–8.7 s.
 */
const THREADS_FROM_BYTES = 32 * 1024 * 1024;
/** Read in this thread, events are rendered into a batch of about this size, then sorted. */
const SORT_BATCH_BYTES = 1 << 20;
const MAX_THREADS = 4;

function defaultThreads(files: ReportRequest['files']): number {
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += statSync(f.path).size * (isGzipFile(f.path) ? 8 : 1);
    } catch {
      // reported by the read itself, with the file's name
    }
  }
  if (bytes < THREADS_FROM_BYTES) return 1;
  const cores = availableParallelism();
  return Math.max(1, Math.min(MAX_THREADS, cores, Math.round(cores - loadavg()[0]! + 1)));
}

/**
 * `audit report`: one read with flat memory. The files are streamed once: each event is filtered,
 * added to the (bounded) summary, rendered (pass-one.ts), and its text fed to an external sorter;
 * large inputs are read by several threads (read-parallel.ts), with the same result. The header is
 * then rendered from the summary, and the sorted event texts are streamed straight to the output.
 * With a verifier (which must see every line in order) the read stays in this thread.
 */
export async function runReport(request: ReportRequest): Promise<ReportSummary> {
  const renderer = RENDERERS[request.format]();
  const stats: InputStats[] = [];
  const builder = new SummaryBuilder();
  const sorter = new ExternalSorter(request.chunkSize);
  const progress = request.onProgress;
  const { filter } = request;
  const threads = request.verifier ? 1 : (request.threads ?? defaultThreads(request.files));
  const checkFile = distFile(import.meta.url, PREBUILT_EVENT_CHECK);
  try {
    if (threads > 1) {
      await readInThreads({
        files: request.files,
        stats,
        setup: { format: request.format, filter, maxLineBytes: MAX_LINE_BYTES, ...(checkFile ? { checkFile } : {}) },
        threads,
        builder,
        sorter,
        ...(progress ? { onProgress: progress } : {}),
      });
    } else {
      const batch = new RecordBatch();
      let batchFile = 0;
      const sort = (): void => {
        const free = sorter.addBatch(batch.take(), batchFile, 0);
        if (free.length > 0) batch.reuse(free[0]!);
      };
      const passOne = createPassOne(request.format, filter, builder, batch);
      await readEvents(
        request.files,
        stats,
        ({ event, ms, fileIndex, line }) => {
          if (fileIndex !== batchFile && batch.count > 0) sort();
          batchFile = fileIndex;
          passOne(event, ms, line);
          if (batch.byteLength >= SORT_BATCH_BYTES) sort();
        },
        progress,
        request.verifier,
        checkFile,
      );
      if (batch.count > 0) sort();
    }
    const summary = builder.finish(request.filter.window, describeFilter(request.filter), stats);
    if (request.verifier) summary.integrity = request.verifier.finish();
    await writeOutput(request, async (out) => {
      out.write(renderer.begin(summary));
      const rules = new Map(summary.rules.map((r) => [r.id, r]));
      // No straggler and nothing written between events: each group's texts are copied out as bytes.
      const inOrder = renderer.separator === '' ? sorter.inOrder() : undefined;
      if (inOrder !== undefined) {
        for (const run of inOrder) {
          const rule = rules.get(run.group)!;
          out.write(renderer.groupStart(rule));
          for (const piece of run.bytes()) {
            out.write(piece);
            if (out.full()) await out.flush();
          }
          out.write(renderer.groupEnd(rule));
        }
        out.write(renderer.end(summary));
        return;
      }
      let current: string | undefined;
      let first = true;
      for (const { group, text } of sorter.sorted()) {
        if (group !== current) {
          if (current !== undefined) out.write(renderer.groupEnd(rules.get(current)!));
          current = group;
          out.write(renderer.groupStart(rules.get(current)!));
          first = true;
        }
        if (!first) out.write(renderer.separator);
        out.write(text);
        first = false;
        if (out.full()) await out.flush();
      }
      if (current !== undefined) out.write(renderer.groupEnd(rules.get(current)!));
      out.write(renderer.end(summary));
    });
    return summary;
  } finally {
    sorter.cleanup();
  }
}

async function writeOutput(request: ReportRequest, body: (out: BufferedOut) => Promise<void>): Promise<void> {
  if (request.outFile === undefined) {
    const out = new BufferedOut(request.stdout);
    await body(out);
    await out.flush();
    return;
  }
  const target = request.outFile;
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let stream: WriteStream;
  try {
    stream = createWriteStream(temp, { flags: 'wx' });
    await once(stream, 'open');
  } catch (error) {
    throw new EnvironmentError('IO', `--out ${target}: cannot write (${errnoCode(error) ?? String(error)})`, {
      cause: error,
    });
  }
  try {
    const out = new BufferedOut(stream);
    await body(out);
    await out.flush();
    stream.end();
    await once(stream, 'finish');
    renameSync(temp, target);
  } catch (error) {
    stream.destroy();
    rmSync(temp, { force: true });
    throw error;
  }
}

const OUT_BLOCK = 1 << 18;

/** Collects strings and bytes into ~256 KiB writes, encoding each string once, and respects backpressure. */
class BufferedOut {
  private buffer = Buffer.allocUnsafe(OUT_BLOCK);
  private used = 0;
  private readonly big: Buffer[] = [];

  constructor(private readonly stream: NodeJS.WritableStream) {}

  write(text: string | Buffer): void {
    const bound = typeof text === 'string' ? 3 * text.length : text.length;
    if (this.used + bound > this.buffer.length) {
      if (bound > OUT_BLOCK) {
        // Larger than a block (a report header): its own write, after what is buffered. Bytes are a
        // view into the sorter's read buffer, valid only until its next record: copied.
        const own = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
        this.big.push(this.buffer.subarray(0, this.used), own);
        this.buffer = Buffer.allocUnsafe(OUT_BLOCK);
        this.used = 0;
        return;
      }
      this.big.push(this.buffer.subarray(0, this.used));
      this.buffer = Buffer.allocUnsafe(OUT_BLOCK);
      this.used = 0;
    }
    this.used += typeof text === 'string' ? this.buffer.write(text, this.used) : text.copy(this.buffer, this.used);
  }

  full(): boolean {
    return this.big.length > 0 || this.used >= OUT_BLOCK - 4096;
  }

  async flush(): Promise<void> {
    const pieces = [...this.big, this.buffer.subarray(0, this.used)].filter((p) => p.length > 0);
    this.big.length = 0;
    this.buffer = Buffer.allocUnsafe(OUT_BLOCK);
    this.used = 0;
    for (const piece of pieces) if (!this.stream.write(piece)) await once(this.stream, 'drain');
  }
}
