/** The line separator of JSON lines, syslog files and CEF captures. */
const NEWLINE = 0x0a;

/** Reads at most `length` bytes into `buffer` at `offset`; 0 at the end of the input. */
export type ReadInto = (buffer: Buffer, offset: number, length: number) => Promise<number>;

export interface BlockOptions {
  /** Bytes asked of each read (default 64 KiB); a block is about one read. */
  readBytes?: number;
  /**
   * A buffer of at least `size` bytes for the next block (default: a new one with memory of its own).
   * Each block is a view into a buffer of its own that the splitter never touches again: the consumer
   * may keep it, or move its memory to another thread.
   */
  newBuffer?: (size: number) => Buffer;
}

/** Reads from an iterable of chunks (a stream), copying each into the buffer given. */
function chunkReader(input: AsyncIterable<Buffer>): ReadInto {
  const chunks = input[Symbol.asyncIterator]();
  let chunk: Buffer | undefined;
  let at = 0;
  return async (buffer, offset, length) => {
    while (chunk === undefined || at === chunk.length) {
      const next = await chunks.next();
      if (next.done === true) return 0;
      chunk = next.value;
      at = 0;
    }
    const n = chunk.copy(buffer, offset, at, Math.min(chunk.length, at + length));
    at += n;
    return n;
  };
}

/**
 * Splits a byte stream (an iterable of chunks, or a function that reads into a buffer, such as a file's
 * read) into blocks of whole lines (each block ends at a LF, but the last one of the stream), about one
 * read each, and hands them to `onBlock` in order. A line that spans reads and grows past `maxBytes` is
 * dropped as it streams past: `onBlock(undefined)` stands for it. `onBlock` may return a promise
 * (backpressure): the next read waits for it.
 */
export async function splitBlocks(
  input: AsyncIterable<Buffer> | ReadInto,
  maxBytes: number,
  onBlock: (block: Buffer | undefined) => void | Promise<void>,
  options: BlockOptions = {},
): Promise<void> {
  const read = typeof input === 'function' ? input : chunkReader(input);
  const readBytes = options.readBytes ?? 1 << 16;
  const newBuffer = options.newBuffer ?? ((size: number): Buffer => Buffer.allocUnsafeSlow(size));
  let buffer = newBuffer(readBytes);
  // buffer[0, carried) is the start of a line the previous reads did not end; what is read follows it.
  let carried = 0;
  // Inside a line longer than maxBytes: its bytes are dropped until its LF.
  let overflow = false;
  for (;;) {
    if (buffer.length - carried < readBytes) {
      const bigger = newBuffer(carried + readBytes);
      buffer.copy(bigger, 0, 0, carried);
      buffer = bigger;
    }
    const n = await read(buffer, carried, buffer.length - carried);
    if (n === 0) break;
    const filled = carried + n;
    let start = 0;
    if (overflow) {
      const end = buffer.subarray(0, filled).indexOf(NEWLINE);
      if (end === -1) continue;
      overflow = false;
      await onBlock(undefined);
      start = end + 1;
    } else if (carried > 0) {
      // The carried line ends in what was read: dropped when it grew too long.
      const first = buffer.subarray(0, filled).indexOf(NEWLINE, carried);
      if (first !== -1 && first > maxBytes) {
        await onBlock(undefined);
        start = first + 1;
      }
    }
    const last = buffer.subarray(0, filled).lastIndexOf(NEWLINE);
    if (last < start) {
      // No line ends here: all of it starts one line.
      if (filled - start > maxBytes) {
        overflow = true;
        carried = 0;
      } else {
        buffer.copy(buffer, 0, start, filled);
        carried = filled - start;
      }
      continue;
    }
    const block = buffer.subarray(start, last + 1);
    carried = filled - last - 1;
    const next = newBuffer(Math.max(readBytes, carried + readBytes));
    buffer.copy(next, 0, last + 1, filled);
    buffer = next;
    if (block.length > 0) await onBlock(block);
  }
  if (overflow) await onBlock(undefined);
  else if (carried > 0) await onBlock(carried > maxBytes ? undefined : buffer.subarray(0, carried));
}

/**
 * The lines of one block, in order; a line longer than `maxBytes` is passed as undefined, undecoded.
 * The block's last line may lack its LF (the end of the file).
 */
export function forEachLine(block: Buffer, maxBytes: number, onLine: (line: string | undefined) => void): void {
  let start = 0;
  while (start < block.length) {
    let end = block.indexOf(NEWLINE, start);
    if (end === -1) end = block.length;
    onLine(end - start > maxBytes ? undefined : block.toString('utf8', start, end));
    start = end + 1;
  }
}

/**
 * The lines of a file, each at most `maxBytes` (a longer one is passed as undefined, never held whole), with
 * their 1-based numbers: for files someone else wrote (event logs, SIEM exports), where readline would hold a
 * 1 GB line in memory and then fail on it. A CR before the LF is not part of the line (as readline's crlfDelay).
 */
export async function forEachFileLine(
  input: AsyncIterable<Buffer>,
  maxBytes: number,
  onLine: (line: string | undefined, number: number) => void | Promise<void>,
): Promise<void> {
  let number = 0;
  await splitBlocks(input, maxBytes, async (block) => {
    if (block === undefined) {
      await onLine(undefined, ++number);
      return;
    }
    const lines: Array<string | undefined> = [];
    forEachLine(block, maxBytes, (line) => lines.push(line?.endsWith('\r') ? line.slice(0, -1) : line));
    for (const line of lines) {
      const pending = onLine(line, ++number);
      // a microtask per line only for a callback that asks for one
      if (pending !== undefined) await pending;
    }
  });
}
