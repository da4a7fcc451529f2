import { createEvent, type Event } from '../../shared/events/index.ts';

/**
 * The event of `--on-unsealed stop` (enforce mode, unsealed or invalid neighbour): `stopping` is
 * sent and flushed before the stop (in a pod, killing the namespace's init ends the watcher too),
 * `failed` after a stop that did not work, `dry_run` when enforce only reports.
 */
export interface StopTargetInput {
  outcome: 'stopping' | 'failed' | 'dry_run';
  target: string;
  why: string;
  reason?: string;
  mode: 'learn' | 'monitor' | 'enforce';
  version: string;
  seal: NonNullable<Event['sealwatch']['seal']>;
  container?: Event['container'];
  host?: string;
}

export function stopTargetEvent(input: StopTargetInput): Event {
  const failed = input.outcome === 'failed';
  return createEvent({
    event: {
      kind: 'alert',
      category: ['configuration', 'intrusion_detection'],
      type: ['denied'],
      action: failed ? 'target-stop-failed' : 'target-stopped',
      outcome: failed ? 'failure' : input.outcome === 'stopping' ? 'success' : 'unknown',
      severity: 8,
      dataset: 'sealwatch.runtime',
    },
    rule: {
      id: input.seal.status === 'invalid' ? 'seal.invalid' : 'seal.unsealed',
      name: 'Workload stopped: seal not verified',
      ruleset: 'builtin',
    },
    message:
      input.outcome === 'dry_run'
        ? `${input.why}: would stop ${input.target} [dry-run]`
        : failed
          ? `${input.why}: could not stop ${input.target}: ${input.reason ?? '?'}`
          : `${input.why}: stopping ${input.target}`,
    container: input.container,
    host: input.host ? { name: input.host } : undefined,
    sealwatch: {
      mode: input.mode,
      version: input.version,
      seal: input.seal,
      outcome: input.outcome === 'dry_run' ? 'dry_run' : failed ? 'kill_failed' : 'killed',
    },
  });
}
