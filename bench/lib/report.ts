/**
 * The bench convention: each benchmark measures our code and a baseline in the same run, on the same
 * machine, and prints one line per comparison: `name: ours X, baseline Y, ratio Z` (ratio = ours / baseline,
 * so lower is better for times and memory, higher is better for rates; the line says which).
 */
export function report(
  name: string,
  ours: number,
  baseline: number,
  unit: string,
  better: 'lower' | 'higher' = 'lower',
): void {
  const ratio = baseline === 0 ? Number.POSITIVE_INFINITY : ours / baseline;
  console.log(
    `${name}: ours ${fmt(ours)} ${unit}, baseline ${fmt(baseline)} ${unit}, ratio ${ratio.toFixed(2)} (${better} is better)`,
  );
}

/** A figure with no baseline of its own (e.g. a goal from an issue); printed in the same style. */
export function figure(name: string, value: number, unit: string, goal?: string): void {
  console.log(`${name}: ${fmt(value)} ${unit}${goal ? ` (goal: ${goal})` : ''}`);
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

/** Median of several timed runs of `fn`, in milliseconds. */
export async function medianMs(runs: number, fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
