import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Event } from '../../shared/events/index.ts';

/**
 * The event schema check for reading event files in bulk: the JSON Schema generated from the zod
 * `Event` schema (the one source of truth, published as docs/schema/event.json), compiled by ajv. It
 * checks the object JSON.parse made in place, without the copy zod builds, about 15 times faster per
 * event, which is what lets `audit report` read 1M events near the speed of parsing them
 * (bench/audit.bench.ts); test/audit/report-event-check.test.ts keeps its verdicts equal to zod's.
 * Fields the schema does not know stay on the object.
 *
 * From the bundle, `prebuilt` names the validator scripts/build.mjs generated ahead of time from
 * the same schema (ajv's standalone code): then neither ajv nor a compilation is paid at start, in
 * each reading thread. From the sources, the schema is compiled here (event-check-ajv.ts).
 */
export const PREBUILT_EVENT_CHECK = 'audit-event-check.cjs';

export type EventCheck = (raw: unknown) => raw is Event;

export async function createEventCheck(prebuilt?: string): Promise<EventCheck> {
  let validate: (raw: unknown) => boolean;
  if (prebuilt !== undefined && existsSync(prebuilt)) {
    validate = createRequire(prebuilt)(prebuilt) as (raw: unknown) => boolean;
  } else {
    const { compileEventCheck } = await import('./event-check-ajv.ts');
    validate = compileEventCheck();
  }
  return (raw: unknown): raw is Event => validate(raw) === true;
}
