import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEventCheck, PREBUILT_EVENT_CHECK, type EventCheck } from '../../audit/report/event-check.ts';
import { Event } from '../../shared/events/index.ts';
import { killOf, makeEvent } from './events-fixture.ts';

/** A deep copy of `value` with `path` set to `to` (undefined deletes the key). */
function change(value: unknown, path: string, to: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.split('.');
  let node = copy;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (to === undefined) delete node[last];
  else node[last] = to;
  return copy;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('audit report event check (ajv, compiled from the zod Event schema)', () => {
  // Compiled here (as from the sources), and the one scripts/build.mjs compiled ahead of time for dist/.
  let compiled: EventCheck;
  let prebuilt: EventCheck;
  beforeAll(async () => {
    compiled = await createEventCheck();
    const file = join(REPO, 'dist', PREBUILT_EVENT_CHECK);
    expect(existsSync(file), `${file} (npm run build)`).toBe(true);
    prebuilt = await createEventCheck(file);
  });
  const base = makeEvent(1, {
    process: {
      pid: 7,
      ppid: 1,
      name: 'sh',
      args: ['sh'],
      user: { id: '0', name: 'root' },
      hash: { sha256: 'a'.repeat(64) },
      parent: { pid: 1, name: 'init' },
    },
    source: { ip: '127.0.0.1', port: 5 },
    destination: { ip: '::1', port: 65535, domain: 'x.example' },
    network: { transport: 'tcp', type: 'ipv6', direction: 'egress' },
    file: { path: '/etc/shadow' },
    host: { name: 'h' },
  });
  const corpus: [string, unknown][] = [
    ['a full event', base],
    ['a kill response', killOf(base, 2)],
    ['an unknown field (kept, not an error)', change(base, 'sealwatch.future_field', { seq: 3 })],
    ['chain fields of the wrong shape', change(base, 'sealwatch.chain', { seq: 3 })],
    ['details of every allowed type', change(base, 'sealwatch.details', { a: 'x', b: 2, c: true })],
    ['a details value of another type', change(base, 'sealwatch.details', { a: null })],
    ['no @timestamp', change(base, '@timestamp', undefined)],
    ['@timestamp a number', change(base, '@timestamp', 5)],
    ['severity 11', change(base, 'event.severity', 11)],
    ['severity 4.5', change(base, 'event.severity', 4.5)],
    ['severity as text', change(base, 'event.severity', '4')],
    ['an unknown kind', change(base, 'event.kind', 'incident')],
    ['category not a list', change(base, 'event.category', 'process')],
    ['no message', change(base, 'message', undefined)],
    ['a port over 65535', change(base, 'destination.port', 70000)],
    ['a negative pid', change(base, 'process.pid', -1)],
    ['a sha256 in capitals', change(base, 'process.hash.sha256', 'A'.repeat(64))],
    ['an unknown outcome', change(base, 'sealwatch.outcome', 'exploded')],
    ['an unknown severity label', change(base, 'sealwatch.severity', 'urgent')],
    ['a rule without a name', change(base, 'rule', { id: 'x' })],
    ['count 0', change(base, 'sealwatch.count', 0)],
    ['args with a number', change(base, 'process.args', ['sh', 1])],
    ['an array', [base]],
    ['null', null],
    ['a string', 'event'],
  ];
  it.each(corpus)('%s: the same verdict as zod', (_name, value) => {
    const zod = Event.safeParse(value).success;
    expect(compiled(value)).toBe(zod);
    expect(prebuilt(value)).toBe(zod);
  });
  it('the corpus holds both verdicts', () => {
    const verdicts = corpus.map(([, v]) => compiled(v));
    expect(verdicts.filter(Boolean).length).toBeGreaterThanOrEqual(4);
    expect(verdicts.filter((v) => !v).length).toBeGreaterThanOrEqual(15);
  });
});
