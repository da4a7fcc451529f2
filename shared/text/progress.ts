/**
 * The progress of long reads (`seal`'s "reading image", `audit verify-log`'s "verifying log"): bytes read of the
 * (estimated) total, the rate and the time left. On a terminal one line redrawn in place at most every
 * `intervalMs` (a 200 MB image read in 64 KiB chunks would otherwise redraw it thousands of times); elsewhere
 * (CI logs) one line per 10% read. The clock is a parameter so the behaviour is tested without waiting.
 */
export interface ProgressLine {
  /** `note`: what else to say at the end (`48,213 events`). */
  update(bytes: number, total: number, note?: string): void;
  /** ends the redrawn line (a newline on a terminal) */
  done(): void;
}

export function createProgressLine(options: {
  /** What is being read: `reading image`, `verifying log`. */
  label: string;
  write: (text: string) => void;
  tty: boolean;
  now?: () => number;
  intervalMs?: number;
}): ProgressLine {
  const now = options.now ?? (() => performance.now());
  const interval = options.intervalMs ?? 200;
  const started = now();
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastPercent = -1;
  let drawn = false;
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  const describe = (bytes: number, total: number, t: number, note: string | undefined): string => {
    const seconds = (t - started) / 1000;
    // a rate from the first moments says nothing (a first chunk read at once): shown after 200 ms
    const rate = seconds >= 0.2 ? bytes / seconds : 0;
    const left = total > bytes && rate > 0 ? Math.ceil((total - bytes) / rate) : undefined;
    return (
      `${options.label}: ${mb(bytes)} MB${total > 0 ? ` of ~${mb(total)} MB` : ''}` +
      (rate > 0 ? `, ${mb(rate)} MB/s` : '') +
      (left !== undefined ? `, ETA ${left} s` : '') +
      (note !== undefined ? `, ${note}` : '')
    );
  };
  return {
    update(bytes, total, note) {
      const t = now();
      if (options.tty) {
        const finished = total > 0 && bytes >= total;
        if (t - lastDraw < interval && !finished) return;
        lastDraw = t;
        drawn = true;
        options.write(`\r${describe(bytes, total, t, note)}\u001b[K`);
        return;
      }
      const percent = total > 0 ? Math.min(100, Math.floor((bytes / total) * 10) * 10) : -1;
      if (percent > lastPercent) {
        lastPercent = percent;
        options.write(`${describe(bytes, total, t, note)}${percent >= 0 ? ` (${percent}%)` : ''}\n`);
      }
    },
    done() {
      if (options.tty && drawn) options.write('\n');
    },
  };
}
