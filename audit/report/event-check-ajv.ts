import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { Event } from '../../shared/events/index.ts';

/**
 * The only importer of ajv: compiles the JSON Schema generated from the zod `Event` schema into a
 * validator that checks a parsed object in place. Loaded only when no validator was compiled ahead of
 * time (run from the sources); see event-check.ts.
 */
export function compileEventCheck(): (raw: unknown) => boolean {
  const schema = z.toJSONSchema(Event, { io: 'input', unrepresentable: 'any' });
  // The schema is generated from ours (and tested): checking it against the meta-schema would only cost time.
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false, validateSchema: false });
  const validate = ajv.compile(schema);
  return (raw) => validate(raw) === true;
}
