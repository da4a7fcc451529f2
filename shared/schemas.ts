import { z } from 'zod';
import { Event } from './events/index.ts';
import { Profile } from './profile/index.ts';

/**
 * JSON Schemas generated from the zod schemas (the one source of truth), published in docs/schema/
 * for editors (yaml-language-server) and SIEM engineers. `npm run schemas` rewrites them;
 * test/shared/schemas.test.ts fails when they are stale.
 */
export function renderJsonSchemas(): Record<string, string> {
  const render = (schema: z.ZodType, id: string, title: string, io: 'input' | 'output'): string =>
    `${JSON.stringify({ $id: id, title, ...z.toJSONSchema(schema, { io, unrepresentable: 'any' }) }, null, 2)}\n`;
  return {
    'profile.json': render(Profile, 'https://sealwatch.dev/schema/profile.json', 'sealwatch runtime profile', 'input'),
    'event.json': render(Event, 'https://sealwatch.dev/schema/event.json', 'sealwatch event', 'output'),
  };
}
