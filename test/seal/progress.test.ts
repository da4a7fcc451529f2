/* eslint-disable no-control-regex -- the terminal sequences are what is tested */
import { describe, expect, it } from 'vitest';
import { createProgressLine } from '../../shared/text/index.ts';

/** 200 MB read in 64 KiB chunks over 8 s of a simulated clock, as `seal --progress` sees it. */
function feed(tty: boolean) {
  const writes: string[] = [];
  let t = 0;
  const line = createProgressLine({ label: 'reading image', write: (s) => writes.push(s), tty, now: () => t });
  const total = 200 * 1024 * 1024;
  const chunk = 64 * 1024;
  const chunks = total / chunk;
  for (let i = 1; i <= chunks; i++) {
    t = (i / chunks) * 8000;
    line.update(i * chunk, total);
  }
  line.done();
  return writes;
}

describe('seal progress', () => {
  it('on a terminal: redrawn at most every 200 ms (not once per chunk), with rate and ETA, ending on the total', () => {
    const writes = feed(true);
    // 3,200 chunks; 8 s at one redraw per 200 ms is 40, plus the last one at 100% and the closing newline
    expect(writes.length).toBeLessThanOrEqual(42);
    expect(writes.length).toBeGreaterThan(10);
    expect(writes[5]).toMatch(/^\rreading image: \d+\.\d MB of ~200\.0 MB, 25\.0 MB\/s, ETA \d+ s\u001b\[K$/);
    expect(writes.at(-2)).toMatch(/reading image: 200\.0 MB of ~200\.0 MB, 25\.0 MB\/s\u001b\[K$/);
    expect(writes.at(-1)).toBe('\n');
  });

  it('in a CI log: one line per 10% with rate and ETA, no carriage return', () => {
    const writes = feed(false);
    expect(writes).toHaveLength(11); // 0%, 10%, … 100%
    expect(writes[5]).toBe('reading image: 100.0 MB of ~200.0 MB, 25.0 MB/s, ETA 4 s (50%)\n');
    expect(writes.join('')).not.toMatch(/\r|\u001b/);
  });
});
