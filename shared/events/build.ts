import { randomUUID } from 'node:crypto';
import { severityLabel } from '../severity/index.ts';
import type { Event } from './schema.ts';

/** What a producer says about an event; id, timestamp and the severity label are filled in. */
export type EventInput = Omit<Event, '@timestamp' | 'event' | 'sealwatch'> & {
  '@timestamp'?: string;
  event: Omit<Event['event'], 'id'> & { id?: string };
  sealwatch?: Omit<Event['sealwatch'], 'severity'>;
};

/** The one way to make an event: keeps `sealwatch.severity` in step with `event.severity`. */
export function createEvent(input: EventInput, now: () => Date = () => new Date()): Event {
  return {
    ...input,
    '@timestamp': input['@timestamp'] ?? now().toISOString(),
    event: { ...input.event, id: input.event.id ?? randomUUID() },
    sealwatch: { ...input.sealwatch, severity: severityLabel(input.event.severity) },
  };
}
