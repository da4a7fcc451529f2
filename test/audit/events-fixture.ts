import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createEvent, type Event, type EventInput } from '../../shared/events/index.ts';
import { runCliCaptured, type CliRun } from '../harness/cli.ts';

/** A deterministic event: fixed id and time, rule and process as given. */
export function makeEvent(
  i: number,
  over: Partial<EventInput> & { severity?: number; at?: string; ruleId?: string } = {},
): Event {
  const { severity = 5, at, ruleId = 'shell-spawned', ...rest } = over;
  return createEvent({
    '@timestamp': at ?? new Date(Date.UTC(2026, 10, 1, 10, i)).toISOString(),
    event: {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      kind: 'alert',
      category: ['process'],
      type: ['start'],
      action: 'process-started',
      severity,
    },
    rule: { id: ruleId, name: `Rule ${ruleId}` },
    message: `event ${i}`,
    process: { pid: 1000 + i, ppid: 1, name: 'sh', executable: '/bin/busybox', args: ['sh', '-c', 'id'] },
    container: { id: 'c0ffee', name: 'app', image: { name: 'local/app:1.0', digest: 'sha256:aaa' } },
    orchestrator: { namespace: 'prod' },
    sealwatch: { outcome: 'alerted' },
    ...rest,
  });
}

/** The watcher's response to `alert` (as the enforce responder writes it): same rule, same time. */
export function killOf(alert: Event, i: number, outcome: 'killed' | 'kill_failed' = 'killed'): Event {
  const killed = outcome === 'killed';
  return {
    ...alert,
    event: {
      ...alert.event,
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      type: ['denied'],
      action: killed ? 'process-killed' : 'process-kill-failed',
      outcome: killed ? 'success' : 'failure',
    },
    message: `${killed ? 'killed' : 'could not kill'} ${alert.process?.name ?? '?'} for ${alert.rule?.id ?? '?'}`,
    sealwatch: { ...alert.sealwatch, outcome },
  };
}

export function writeEvents(
  path: string,
  events: readonly Event[],
  options: { gzip?: boolean; extraLines?: string[] } = {},
): void {
  const lines = events.map((e) => JSON.stringify(e));
  if (options.extraLines) lines.splice(1, 0, ...options.extraLines);
  const text = `${lines.join('\n')}\n`;
  writeFileSync(path, options.gzip ? gzipSync(text) : text);
}

/** Runs the real CLI in-process with captured streams. */
export function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runCliCaptured(args, { cwd, env });
}
