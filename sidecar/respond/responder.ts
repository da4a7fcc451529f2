import { createEvent, type Event } from '../../shared/events/index.ts';
import type { Hit } from '../evaluate/index.ts';
import type { Aggregator } from './aggregator.ts';
import type { Killer } from './killer.ts';

/**
 * The respond stage: every hit becomes an alert event; in enforce mode the offending process
 * (for a connection: its owner) is then SIGKILLed and the result is its own event (killed or
 * kill_failed); with dry-run, the alert says what enforce would have done (outcome dry_run).
 * Identical repeats go through the aggregator.
 */
export interface ResponderOptions {
  mode: 'learn' | 'monitor' | 'enforce';
  dryRun: boolean;
  /** Only hits at or above this severity are killed in enforce mode (default 7, high). */
  killMinSeverity: number;
  killer: Killer;
  aggregator: Aggregator;
  now?: () => Date;
}

export interface Responder {
  respond(hits: readonly Hit[], nowMs: number): Event[];
  drain(nowMs: number, all?: boolean): Event[];
  setMode(mode: ResponderOptions['mode']): void;
  readonly stats: { alerts: number; suppressed: number; killed: number; killFailed: number };
}

export function createResponder(options: ResponderOptions): Responder {
  let mode = options.mode;
  const stats = { alerts: 0, suppressed: 0, killed: 0, killFailed: 0 };
  const alertOf = (hit: Hit, outcome: 'alerted' | 'dry_run'): Event => {
    const { severity: _label, seq: _seq, ...sw } = hit.event.sealwatch;
    return createEvent(
      {
        ...hit.event,
        '@timestamp': undefined,
        event: {
          ...hit.event.event,
          id: undefined,
          kind: 'alert',
          category: [...new Set([...hit.event.event.category, 'intrusion_detection'])],
          severity: hit.rule.severity,
        },
        rule: {
          id: hit.rule.id,
          name: hit.rule.name,
          description: hit.rule.description,
          category: hit.rule.category,
          ruleset: hit.rule.ruleset,
        },
        message: hit.message,
        sealwatch: { ...sw, mode, outcome },
      },
      options.now,
    );
  };
  return {
    stats,
    setMode(next) {
      mode = next;
    },
    drain: (nowMs, all) => options.aggregator.drain(nowMs, all),
    respond(hits, nowMs) {
      const out: Event[] = [];
      for (const hit of hits) {
        const pid = hit.event.process?.pid;
        const wantsKill = mode === 'enforce' && hit.rule.severity >= options.killMinSeverity && pid !== undefined;
        const alert = alertOf(hit, wantsKill && options.dryRun ? 'dry_run' : 'alerted');
        if (wantsKill && options.dryRun) alert.message = `${alert.message} [dry-run: would SIGKILL pid ${pid}]`;
        const send = options.aggregator.admit(alert, nowMs);
        if (send) {
          stats.alerts++;
          out.push(alert);
        } else stats.suppressed++;
        if (!wantsKill || options.dryRun) continue;
        const ticks = hit.event.sealwatch.details?.start_ticks;
        const result = options.killer.kill(pid, typeof ticks === 'number' ? ticks : undefined);
        if (result.outcome === 'gone') continue;
        const killed = result.outcome === 'killed';
        if (killed) stats.killed++;
        else stats.killFailed++;
        const { severity: _label, ...alertSw } = alert.sealwatch;
        const event = createEvent(
          {
            ...alert,
            '@timestamp': undefined,
            event: {
              ...alert.event,
              id: undefined,
              type: ['denied'],
              action: killed ? 'process-killed' : 'process-kill-failed',
              outcome: killed ? 'success' : 'failure',
            },
            message: killed
              ? `killed ${hit.event.process?.name ?? '?'} (pid ${pid}) for ${hit.rule.id}`
              : `could not kill ${hit.event.process?.name ?? '?'} (pid ${pid}) for ${hit.rule.id}: ${result.reason}`,
            sealwatch: { ...alertSw, outcome: killed ? 'killed' : 'kill_failed' },
          },
          options.now,
        );
        if (options.aggregator.admit(event, nowMs)) out.push(event);
      }
      return out;
    },
  };
}
