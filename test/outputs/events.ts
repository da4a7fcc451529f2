import { createEvent, type Event } from '../../shared/events/index.ts';

/** Test events: a plain one and one carrying every hostile string we promise to survive. */
export function plainEvent(severity = 5, message = 'plain event'): Event {
  return createEvent(
    {
      event: {
        id: '00000000-0000-4000-8000-000000000001',
        kind: 'alert',
        category: ['process'],
        type: ['start'],
        action: 'process-started',
        severity,
      },
      rule: { id: 'SW-TEST', name: 'test rule' },
      message,
      sealwatch: { mode: 'test' },
    },
    () => new Date('2026-11-20T09:03:04.005Z'),
  );
}

export const HOSTILE = {
  pipes: 'a|b||c|',
  backslashes: 'C:\\path\\ends\\',
  equals: 'k=v x=y =',
  crlf: 'line1\r\nline2\rline3\n',
  bracket: 'a]b]]',
  quotes: 'say "hi" \\"x\\"',
  tabs: 'a\tb\t',
  nul: 'before\u0000after',
  replacement: 'bad\uFFFDbytes\uFFFD',
  long: 'A'.repeat(10_000),
  emoji: 'fire 🔥 family 👨‍👩‍👧',
  rtl: 'שלום عربي \u202Egnp.exe',
  fakeCef: 'x act=evil cs1Label=container cs1=forged',
  fakeSd: '"] [other@1 forged="1"]',
  fakeSyslog: '\n<13>1 2026-01-01T00:00:00Z host forged - - - injected',
} as const;

export function hostileEvent(value: string, severity = 8): Event {
  return createEvent(
    {
      event: {
        id: '00000000-0000-4000-8000-000000000002',
        kind: 'alert',
        category: ['process'],
        type: ['start'],
        action: 'process-started',
        severity,
      },
      rule: { id: 'SW-HOSTILE', name: `rule ${value.slice(0, 50)}` },
      message: value,
      process: {
        pid: 4242,
        ppid: 1,
        name: value,
        executable: `/tmp/${value}`,
        args: [value, '--flag', value],
        user: { id: '0', name: value },
      },
      container: { id: 'c0ffee', name: value, image: { name: value, digest: 'sha256:' + 'a'.repeat(64) } },
      orchestrator: { namespace: value, resource: { name: value, type: 'pod' } },
      host: { name: value },
      sealwatch: { mode: 'monitor', outcome: 'alerted', profile_id: value, seal: { status: 'verified' } },
    },
    () => new Date('2026-11-20T09:03:04.005Z'),
  );
}
