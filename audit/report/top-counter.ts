/**
 * The most frequent values of a stream in bounded memory (Misra–Gries): at most `2 × capacity` keys
 * are held. While fewer than that many distinct values were seen, every count is exact. Past it,
 * the smaller counts are trimmed: each count shown is then a lower bound, at most `maxError` below
 * the true count, and any value seen more than `maxError` times is still listed.
 */
export interface TopEntry {
  key: string;
  count: number;
}

export interface TopList {
  /** Most frequent first (ties by key), at most `limit` entries. */
  top: TopEntry[];
  /** Distinct values seen: exact when `maxError` is 0, otherwise a lower bound. */
  distinct: number;
  /** 0: every count is exact; otherwise the most any count shown can be below the true one. */
  maxError: number;
}

export interface TopState {
  counts: [string, number][];
  maxError: number;
}

export class TopCounter {
  private readonly counts = new Map<string, number>();
  private maxError = 0;
  private distinct = 0;

  constructor(private readonly capacity = 1000) {}

  add(key: string, times = 1): void {
    const count = this.counts.get(key);
    if (count !== undefined) {
      this.counts.set(key, count + times);
      return;
    }
    if (this.maxError === 0) this.distinct++;
    this.counts.set(key, times);
    if (this.counts.size > 2 * this.capacity) this.trim();
  }

  /** What this counter holds, to be merged into another (a reading thread's part of the stream). */
  state(): TopState {
    return { counts: [...this.counts.entries()], maxError: this.maxError };
  }

  /** Adds another counter's state: counts add up, and so do the errors of their trims. */
  merge(state: TopState): void {
    if (state.maxError > 0) this.maxError += state.maxError;
    for (const [key, times] of state.counts) this.add(key, times);
  }

  /** Subtracts the (capacity+1)-th largest count from every count and drops those at or below it. */
  private trim(): void {
    const sorted = [...this.counts.values()].sort((a, b) => b - a);
    const cut = sorted[this.capacity]!;
    this.maxError += cut;
    for (const [key, count] of this.counts) {
      if (count <= cut) this.counts.delete(key);
      else this.counts.set(key, count - cut);
    }
  }

  result(limit: number): TopList {
    const top = [...this.counts.entries()]
      .map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, limit);
    return { top, distinct: this.distinct, maxError: this.maxError };
  }
}
