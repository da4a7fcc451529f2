/** The line separator of JSON lines, syslog files and CEF captures. */
const NEWLINE = 0x0a;

/**
 * Splits a byte stream into blocks of whole lines (each block ends at a LF, but the last one of the
 * stream), about one read each, and hands them to `onBlock` in order. A line that spans reads and
 * grows past `maxBytes` is dropped as it streams past: `onBlock(undefined)` stands for it. `onBlock`
 * may return a promise (backpressure): the next read waits for it.
 */
export async function splitBlocks(
  input: AsyncIterable<Buffer>,
  maxBytes: number,
  onBlock: (block: Buffer | undefined) => void | Promise<void>,
): Promise<void> {
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let overflow = false;
  for await (const read of input) {
    let chunk = read;
    if (overflow) {
      const end = chunk.indexOf(NEWLINE);
      if (end === -1) continue;
      overflow = false;
      await onBlock(undefined);
      chunk = chunk.subarray(end + 1);
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      carry.push(chunk);
      carryBytes += chunk.length;
      if (carryBytes > maxBytes) {
        overflow = true;
        carry = [];
        carryBytes = 0;
      }
      continue;
    }
    let block = chunk.subarray(0, last + 1);
    if (carryBytes > 0) {
      const first = chunk.indexOf(NEWLINE);
      if (carryBytes + first > maxBytes) {
        await onBlock(undefined);
        block = chunk.subarray(first + 1, last + 1);
      } else block = Buffer.concat([...carry, block]);
      carry = [];
      carryBytes = 0;
    }
    if (block.length > 0) await onBlock(block);
    if (last + 1 < chunk.length) {
      carry.push(chunk.subarray(last + 1));
      carryBytes = chunk.length - last - 1;
    }
  }
  if (overflow) await onBlock(undefined);
  else if (carryBytes > 0) await onBlock(carryBytes > maxBytes ? undefined : Buffer.concat(carry));
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
