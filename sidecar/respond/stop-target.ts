import { createEvent, type Event } from '../../shared/events/index.ts';
import type { Killer } from './killer.ts';

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

/**
 * `--on-unsealed stop`: the event goes out (and is flushed) before the stop, because in a pod killing the
 * namespace's init also ends the watcher. With the engine (`--container`, or a pod given the socket): `docker
 * stop`; without (a pod): SIGKILL every watched process, PID 1 of the namespace last. True when stopped.
 */
export async function stopTarget(input: {
  event: Omit<StopTargetInput, 'outcome' | 'reason'>;
  dryRun: boolean;
  report(event: Event): void;
  flush(): Promise<void>;
  /** `docker stop` of the target's container, when the engine is known */
  stopContainer?: () => Promise<void>;
  /** otherwise: SIGKILL these processes (with their start times, against PID reuse) and wait a little */
  processes: readonly { pid: number; startTicks: number; name: string }[];
  killer: Killer;
  stillRunning(pid: number, startTicks: number): boolean;
}): Promise<boolean> {
  if (input.dryRun) {
    input.report(stopTargetEvent({ ...input.event, outcome: 'dry_run' }));
    return false;
  }
  input.report(stopTargetEvent({ ...input.event, outcome: 'stopping' }));
  await input.flush();
  let failure: string | undefined;
  if (input.stopContainer) {
    try {
      await input.stopContainer();
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
  } else {
    const victims = [...input.processes].sort((a, b) => b.pid - a.pid);
    for (const p of victims) input.killer.kill(p.pid, p.startTicks);
    // the kernel drops signals a namespace's init did not ask for, when sent from inside the namespace
    await new Promise((r) => setTimeout(r, 500));
    const alive = victims.filter((p) => input.stillRunning(p.pid, p.startTicks));
    if (alive.length > 0)
      failure = `${alive.map((p) => `${p.name} (pid ${p.pid})`).join(', ')} still running${
        alive.some((p) => p.pid === 1)
          ? ': pid 1 of the namespace ignores SIGKILL from inside it; give --docker-socket to stop the container through the engine'
          : ''
      }`;
  }
  if (failure === undefined) return true;
  input.report(stopTargetEvent({ ...input.event, outcome: 'failed', reason: failure }));
  return false;
}
