import { existsSync, readFileSync } from 'node:fs';
import type { Event } from '../../shared/events/index.ts';

/**
 * Polls `fn` every 150 ms until it returns something other than undefined or false (a thrown error counts
 * as "not yet" and is quoted if time runs out). For waiting on real processes, containers and receivers;
 * the timeout is a bound on a hang, never an assertion about speed.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > end) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The events of a JSONL file written by a `file://` output (none yet when the file does not exist). */
export function readEventsFile(file: string): Event[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Event);
}
