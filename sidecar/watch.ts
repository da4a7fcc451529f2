import type { Dispatcher } from '../shared/outputs/index.ts';
import type { Event } from '../shared/events/index.ts';
import type { Logger } from '../shared/logging/index.ts';
import type { Profile } from '../shared/profile/index.ts';
import type { WatchMetrics, WatchStatus } from './api/index.ts';
import { allRules, createRuleEngine, type RuleContext } from './evaluate/index.ts';
import type { Learner } from './learn/index.ts';
import { normalize, type NormalizeContext } from './normalize/index.ts';
import type { Responder } from './respond/index.ts';
import type { ProcessTracker, Source } from './sources/index.ts';

/**
 * The runtime pipeline: sources → normalize → evaluate → respond → dispatch.
 * `tick()` is the whole loop; everything it calls is built by the composition root (run-watch.ts).
 */
export interface WatcherDeps {
  tracker: ProcessTracker;
  sources: readonly Source[];
  responder: Responder;
  dispatcher: Dispatcher;
  metrics: WatchMetrics;
  logger: Logger;
  context: NormalizeContext;
  target: string;
  profile?: Profile;
  profileSource?: string;
  inventory?: RuleContext['inventory'];
  /** egress host names → addresses, kept current by a HostResolver (a live map) */
  resolvedHosts?: RuleContext['resolvedHosts'];
  seal?: WatchStatus['seal'];
  /** `--container`: the container's state as followed (not running: not ready) */
  container?: () => NonNullable<WatchStatus['container']>;
  learner?: Learner;
  /** ship every observation as an event, not only alerts and state (default false) */
  emitAll?: boolean;
  recentMax?: number;
}

export interface Watcher {
  tick(nowMs: number): void;
  status(): WatchStatus;
  recent(query: { since?: string; rule?: string; limit: number }): Event[];
  profile(): Profile | undefined;
  /** Switch to another mode and profile (end of learning); the learned profile takes effect at once. */
  useProfile(profile: Profile, mode: 'monitor' | 'enforce', source: string): void;
  /** Ship an event made outside the pipeline (e.g. stopping an unsealed target). */
  report(event: Event): void;
  /** Ship pending aggregates and flush the outputs. */
  close(): Promise<void>;
}

const ALWAYS_SHIPPED = new Set([
  'pid-gap',
  'container-exec',
  'container-restart',
  'container-oom',
  'container-die',
  'container-removed',
  'container-events-interrupted',
]);

export function createWatcher(deps: WatcherDeps): Watcher {
  const { tracker, sources, responder, dispatcher, metrics } = deps;
  let profile = deps.profile;
  let profileSource = deps.profileSource;
  let context = deps.context;
  const ruleContext = (p?: Profile): RuleContext => ({
    profile: p,
    inventory: deps.inventory,
    resolvedHosts: deps.resolvedHosts,
  });
  let engine = createRuleEngine(allRules(context.mode === 'learn' ? undefined : profile), ruleContext(profile));
  const recent: Event[] = [];
  const recentMax = deps.recentMax ?? 1000;
  const startedAt = new Date().toISOString();
  let ticks = 0;
  let lastGaps = 0;

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

  const tick = (nowMs: number): void => {
    const end = metrics.tickSeconds.startTimer();
    for (const source of sources) {
      for (const observation of source.poll(nowMs)) {
        deps.learner?.observe(observation);
        const event = normalize(observation, context);
        const hits = engine.evaluate(event);
        if (deps.emitAll || ALWAYS_SHIPPED.has(event.event.action)) ship(event);
        for (const response of responder.respond(hits, nowMs)) ship(response);
      }
    }
    for (const summary of responder.drain(nowMs)) ship(summary);
    ticks++;
    metrics.ticks.inc();
    metrics.processesWatched.set(tracker.processes().size);
    metrics.pidGaps.inc(tracker.stats.gaps - lastGaps);
    lastGaps = tracker.stats.gaps;
    metrics.parseSkipped.set(tracker.stats.skipped);
    for (const s of dispatcher.stats()) metrics.outputQueue.set({ output: s.name }, s.queued);
    end();
  };

  return {
    tick,
    report: ship,
    profile: () => profile,
    useProfile(next, mode, source) {
      profile = next;
      profileSource = source;
      context = { ...context, mode };
      responder.setMode(mode);
      engine = createRuleEngine(allRules(next), ruleContext(next));
    },
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
    status() {
      const sourcesRunning = ticks > 0;
      const profileLoaded = profile !== undefined;
      const container = deps.container?.();
      const reason = !sourcesRunning
        ? 'the sources have not run yet'
        : !(profileLoaded || context.mode === 'learn' || deps.seal !== undefined)
          ? 'no profile loaded'
          : container && container.state !== 'running'
            ? (container.reason ?? `container ${container.name} is ${container.state}`)
            : undefined;
      return {
        mode: context.mode,
        target: deps.target,
        ready: reason === undefined,
        ...(reason !== undefined ? { reason } : {}),
        sourcesRunning,
        profileLoaded,
        profileSource,
        seal: deps.seal,
        startedAt,
        ticks,
        processesWatched: tracker.processes().size,
        processesSeen: tracker.stats.seen,
        pidGaps: tracker.stats.gaps,
        ...(container ? { container } : {}),
        ...responder.stats,
        outputs: dispatcher.stats(),
        watcherRssMiB: Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10,
      };
    },
    async close() {
      for (const summary of responder.drain(Date.now(), true)) ship(summary);
      await dispatcher.flush();
    },
  };
}
