import { z } from 'zod';

/**
 * One record of the engine's event stream (`GET /events`), validated at the edge: engine input,
 * so anything that does not fit is skipped and counted by the caller, never trusted.
 * Only the fields sealwatch reads; `Action` carries the command for exec events
 * (`exec_start: sh -c id`).
 */
export const DockerEvent = z.object({
  Type: z.string().max(64),
  Action: z.string().max(4096),
  Actor: z.object({
    ID: z.string().max(256),
    Attributes: z.record(z.string(), z.string()).optional(),
  }),
  time: z.number().optional(),
  timeNano: z.number().optional(),
});
export type DockerEvent = z.infer<typeof DockerEvent>;

/** Engine-side filters of the event stream (`docker events --filter`): e.g. `{ type: ['container'], container: [id] }`. */
export type DockerEventFilters = Partial<Record<'type' | 'container' | 'event' | 'image' | 'label', string[]>>;

export interface DockerEventsOptions {
  filters?: DockerEventFilters;
  /** replay events from this time on (Unix seconds), so nothing between "decided to watch" and "subscribed" is lost */
  since?: number;
  signal: AbortSignal;
  /** a record that is not JSON or does not fit `DockerEvent` (the caller counts them) */
  onSkipped?: (reason: string) => void;
}

/** Splits the engine's newline-delimited JSON stream; resolves when the stream ends or the signal aborts. */
export async function readJsonLines(
  stream: AsyncIterable<unknown>,
  signal: AbortSignal,
  onRecord: (record: unknown) => void,
  onBad: (reason: string) => void,
): Promise<void> {
  let buffered = '';
  try {
    for await (const chunk of stream) {
      buffered += String(chunk);
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line === '') continue;
        let record: unknown;
        try {
          record = JSON.parse(line) as unknown;
        } catch {
          onBad('not JSON');
          continue;
        }
        onRecord(record);
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}
