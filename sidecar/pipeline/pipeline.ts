import type { Event } from '../../shared/events/index.ts';
import type { Profile } from '../../shared/profile/index.ts';
import { bindDockerEventMetrics } from '../api/metrics.ts';
import { allRules, createRuleEngine, ruleErrorReporter, type RuleContext } from '../evaluate/index.ts';
import type { Learner } from '../learn/index.ts';
import { normalize, type NormalizeContext } from '../normalize/index.ts';
import { createAggregator, createKiller, createResponder } from '../respond/index.ts';
import { sealedProfile, sealStamp, type SealCheck } from '../seal/seal-check.ts';
import {
  createHashCache,
  createProcessTracker,
  type HashCache,
  type Observation,
  type ProcessTracker,
  type Source,
} from '../sources/index.ts';
import type { ProcFs } from '../sources/proc/index.ts';
import type { SightMetrics } from '../sources/sight/file-sight.ts';
import type { ContainerFollower } from '../sources/index.ts';
import type { EngineEvents, ModeSources, SourceParts } from './modes.ts';
import type { Run } from './run.ts';
import { watchStatus, type StatusCounts, type WatchStatus } from './status.ts';
import type { Target } from './target.ts';

/**
 * The one runtime pipeline: sources → normalize → evaluate (rules + profile) → respond → dispatch. Every mode
 * builds its pipelines here (the sidecar's pod, `--container` and `-- COMMAND`, the host agent's per-container
 * pipelines, both learn modes); a mode differs only in its target and its list of sources (modes.ts).
 * `tick()` is one pass of the loop (loop.ts runs it).
 */
export interface PipelineDeps {
  /** what the pipelines of this process share (openRun) */
  run: Run;
  proc: ProcFs;
  /** sha256 of executables; the host agent shares one across its containers (default: one of its own) */
  hashes?: HashCache;
  orchestrator?: Event['orchestrator'];
  /** the seal as checked (its verdict is the first observation); undefined when it was not looked at */
  seal?: SealCheck;
  /** `--profile FILE`: it takes precedence over the profile of a verified seal */
  profile?: { profile: Profile; source: string };
  /** egress host names → addresses, kept current by a HostResolver (a live map) */
  resolvedHosts?: RuleContext['resolvedHosts'];
  /** learn mode: every event goes to it */
  learner?: Learner;
  engine?: EngineEvents;
  /** count PID gaps (only where the whole PID namespace is watched) */
  countGaps?: boolean;
  recentMax?: number;
  selfPid?: number;
}

export interface Pipeline {
  readonly target: Target;
  readonly tracker: ProcessTracker;
  readonly sources: readonly Source[];
  /** `--container`: the container as followed across restarts */
  readonly follower?: ContainerFollower;
  tick(nowMs: number): void;
  counts(): StatusCounts;
  status(): WatchStatus;
  recent(query: { since?: string; rule?: string; limit: number }): Event[];
  profile(): Profile | undefined;
  /** Switch to another mode and profile (end of learning); the learned profile takes effect at once. */
  useProfile(profile: Profile, mode: 'monitor' | 'enforce', source: string): void;
  /** Ship an event made outside the pipeline (e.g. stopping an unsealed target). */
  report(event: Event): void;
  /** Ship pending aggregates, stop the sources and flush the outputs. */
  close(): Promise<void>;
}

/** Actions shipped even when only alerts are: coverage and the container's life. */
const ALWAYS_SHIPPED = new Set([
  'pid-gap',
  'sight-lost',
  'container-exec',
  'container-restart',
  'container-oom',
  'container-die',
  'container-removed',
  'container-events-interrupted',
]);

export function buildPipeline(target: Target, mode: (parts: SourceParts) => ModeSources, deps: PipelineDeps): Pipeline {
  const { proc, run } = deps;
  const { logger, dispatcher, metrics, settings } = run;
  const tracker = createProcessTracker({
    proc,
    scope: target.scope,
    hashes: deps.hashes ?? createHashCache(proc),
    logger,
    countGaps: deps.countGaps ?? false,
    selfPid: deps.selfPid ?? process.pid,
  });
  const { sources, follower, engineStream, identity, sight } = mode({
    target,
    proc,
    tracker,
    logger,
    selfPid: deps.selfPid ?? process.pid,
    seal: deps.seal,
    engine: deps.engine,
    sight: run.sight && { native: run.sight, metrics: sightMetrics(metrics), wake: () => run.wake.request() },
    connectionSight: settings.connectionSight !== false,
  });
  if (engineStream) bindDockerEventMetrics(metrics, engineStream);
  const unbindSight = (sight ?? []).map(({ kind, stats }) => metrics.sight.add(kind, stats));
  const killer = createKiller(proc, { protect: [process.pid] });
  const responder = createResponder({
    mode: settings.mode,
    dryRun: settings.dryRun,
    killMinSeverity: settings.killMinSeverity,
    killer,
    aggregator: createAggregator({ windowMs: settings.aggregateWindowMs }),
  });
  let seal = deps.seal;
  let verified = seal?.status === 'verified' ? seal : undefined;
  let active = deps.profile ?? sealedProfile(seal);
  let context: NormalizeContext = {
    mode: settings.mode,
    version: settings.version,
    hostName: run.hostName,
    container: target.container && {
      id: target.container.id,
      name: target.container.name,
      image: { name: target.container.image },
    },
    orchestrator: deps.orchestrator,
    seal: deps.seal && sealStamp(deps.seal),
  };
  const ruleContext = (profile?: Profile): RuleContext => ({
    profile,
    inventory: verified?.inventory,
    resolvedHosts: deps.resolvedHosts,
  });
  const ruleFailed = ruleErrorReporter({ logger, count: (rule) => metrics.ruleErrors.inc({ rule }) });
  let engine = createRuleEngine(
    allRules(context.mode === 'learn' ? undefined : active?.profile),
    ruleContext(active?.profile),
    ruleFailed,
  );
  /**
   * A later verdict on the seal (the identity check found files that are not the sealed ones): events carry it
   * from now on, and the seal's profile and inventory stop applying (a `--profile` given stays).
   */
  const revokeSeal = (observation: Extract<Observation, { type: 'seal' }>): void => {
    if (!verified || observation.status === 'verified') return;
    seal = { status: 'invalid', detail: observation.detail ?? 'the seal does not belong to this root' };
    verified = undefined;
    if (deps.profile === undefined) active = undefined;
    context = { ...context, seal: sealStamp(seal) };
    engine = createRuleEngine(
      allRules(context.mode === 'learn' ? undefined : active?.profile),
      ruleContext(active?.profile),
    );
  };
  const recent: Event[] = [];
  const recentMax = deps.recentMax ?? 1000;
  const startedAt = new Date().toISOString();
  let ticks = 0;
  let lastGaps = 0;
  let lastSeen = 0;
  let lastSkipped = 0;

  const ship = (event: Event): void => {
    const stamped = dispatcher.dispatch(event);
    recent.push(stamped);
    if (recent.length > recentMax) recent.splice(0, recent.length - recentMax);
    metrics.events.inc({
      rule: event.rule?.id ?? '',
      severity: event.sealwatch.severity,
      outcome: event.sealwatch.outcome ?? '',
    });
  };

  const counts = (): StatusCounts => ({
    processesWatched: tracker.processes().size,
    processesSeen: tracker.stats.seen,
    pidGaps: tracker.stats.gaps,
    ...responder.stats,
  });

  return {
    target,
    tracker,
    sources,
    follower,
    tick(nowMs) {
      for (const source of sources) {
        for (const observation of source.poll(nowMs)) {
          if (observation.type === 'seal') revokeSeal(observation);
          const event = normalize(observation, context);
          deps.learner?.observe(event);
          const hits = engine.evaluate(event);
          if (settings.emitAll || ALWAYS_SHIPPED.has(event.event.action)) ship(event);
          for (const response of responder.respond(hits, nowMs)) ship(response);
        }
      }
      for (const summary of responder.drain(nowMs)) ship(summary);
      ticks++;
      // the tracker keeps running totals; the counters take what is new since the last tick
      metrics.pidGaps.inc(tracker.stats.gaps - lastGaps);
      lastGaps = tracker.stats.gaps;
      metrics.processesSeen.inc(tracker.stats.seen - lastSeen);
      lastSeen = tracker.stats.seen;
      metrics.parseSkipped.inc(tracker.stats.skipped - lastSkipped);
      lastSkipped = tracker.stats.skipped;
    },
    counts,
    status: () =>
      watchStatus({
        mode: context.mode,
        target: target.name,
        startedAt,
        ticks,
        profileLoaded: active !== undefined,
        profileSource: active?.source,
        // a profile is expected unless learning, or the seal was checked and found good (its profile, if it has
        // one, is loaded) or could not be checked (no --pub: the built-in rules only, said at start); a seal that
        // is missing or does not verify leaves the watcher without the profile it was meant to hold the app to
        needsProfile: context.mode !== 'learn' && (seal === undefined || ['unsealed', 'invalid'].includes(seal.status)),
        seal: seal && {
          status: seal.status,
          detail: seal.detail,
          ...(identity ? { identity: identity.progress() } : {}),
        },
        container: follower?.state(),
        counts: counts(),
        outputs: dispatcher.stats(),
      }),
    recent({ since, rule, limit }) {
      let out = recent;
      if (since !== undefined) {
        const seq = /^\d+$/.test(since) ? Number(since) : undefined;
        const time = seq === undefined ? Date.parse(since) : undefined;
        out = out.filter((e) =>
          seq !== undefined ? (e.sealwatch.seq ?? 0) > seq : Date.parse(e['@timestamp']) > (time ?? 0),
        );
      }
      if (rule !== undefined) out = out.filter((e) => e.rule?.id === rule);
      return out.slice(-limit);
    },
    profile: () => active?.profile,
    useProfile(next, mode, source) {
      active = { profile: next, source };
      context = { ...context, mode };
      responder.setMode(mode);
      engine = createRuleEngine(allRules(next), ruleContext(next), ruleFailed);
    },
    report: ship,
    async close() {
      for (const summary of responder.drain(Date.now(), true)) ship(summary);
      for (const source of sources) await source.stop?.();
      for (const unbind of unbindSight) unbind();
      await dispatcher.flush();
    },
  };
}

/** File sight's watches on /metrics: the gauge takes each pipeline's change (the host agent has many). */
function sightMetrics(metrics: Run['metrics']): SightMetrics {
  const held = new Map<string, number>();
  return {
    watches(cls, count) {
      metrics.sightWatches.inc({ class: cls }, count - (held.get(cls) ?? 0));
      held.set(cls, count);
    },
  };
}
