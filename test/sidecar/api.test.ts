import { describe, expect, it } from 'vitest';
import { Profile } from '../../shared/profile/index.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { createApi, createWatchMetrics, listenApi } from '../../sidecar/api/index.ts';
import type { WatchStatus } from '../../sidecar/pipeline/index.ts';
import { started } from './make-events.ts';

const status = (over: Partial<WatchStatus> = {}): WatchStatus => ({
  mode: 'learn',
  target: 'test',
  ready: true,
  sourcesRunning: true,
  profileLoaded: false,
  startedAt: new Date(0).toISOString(),
  ticks: 3,
  processesWatched: 1,
  processesSeen: 2,
  pidGaps: 0,
  alerts: 0,
  suppressed: 0,
  killed: 0,
  killFailed: 0,
  outputs: [],
  watcherRssMiB: 50,
  ...over,
});

describe('watch API (real HTTP on 127.0.0.1)', () => {
  it('health, readiness, metrics, events filter, profile, and token-guarded end of learning', async () => {
    const metrics = createWatchMetrics();
    metrics.events.inc({ rule: 'exec-from-tmp', severity: 'high', outcome: 'alerted' });
    let ready = false;
    let ended = 0;
    const learned = Profile.parse({ apiVersion: 'sealwatch.dev/v1', kind: 'Profile' });
    const events = [started({ pid: 1 }), started({ pid: 2 })];
    const app = createApi({
      status: () => status({ ready }),
      events: ({ rule, limit }) => events.filter((e) => rule === undefined || e.rule?.id === rule).slice(-limit),
      profile: () => (ended > 0 ? learned : undefined),
      endLearning: () => {
        ended++;
        return Promise.resolve(learned);
      },
      token: 's3cret-token',
      metrics,
      logger: silentLogger(),
    });
    const { server, port } = await listenApi(app, '127.0.0.1', 0);
    const url = (p: string) => `http://127.0.0.1:${port}${p}`;
    // a token is configured: every /v1 read carries it (test/sidecar/api-access.test.ts covers refusals)
    const read = (p: string) => fetch(url(p), { headers: { authorization: 'Bearer s3cret-token' } });
    try {
      expect((await fetch(url('/healthz'))).status).toBe(200);
      expect((await fetch(url('/readyz'))).status).toBe(503);
      ready = true;
      expect((await fetch(url('/readyz'))).status).toBe(200);
      const text = await (await fetch(url('/metrics'))).text();
      expect(text).toContain('sealwatch_events_total{rule="exec-from-tmp",severity="high",outcome="alerted"} 1');
      expect(text).toContain('sealwatch_pid_gap_total');
      expect(((await (await read('/v1/events?limit=1')).json()) as { events: unknown[] }).events).toHaveLength(1);
      expect((await read('/v1/events?since=yesterday')).status).toBe(400);
      expect((await read('/v1/events?bogus=1')).status).toBe(400);
      expect((await read('/v1/profile')).status).toBe(404);
      expect((await fetch(url('/v1/learn/end'), { method: 'POST' })).status).toBe(401);
      expect(
        (await fetch(url('/v1/learn/end'), { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status,
      ).toBe(401);
      expect(ended).toBe(0);
      const ok = await fetch(url('/v1/learn/end'), {
        method: 'POST',
        headers: { authorization: 'Bearer s3cret-token' },
      });
      expect(ok.status).toBe(200);
      expect(ended).toBe(1);
      expect((await read('/v1/profile')).status).toBe(200);
      expect(((await (await read('/v1/status')).json()) as WatchStatus).ticks).toBe(3);
    } finally {
      server.close();
    }
  });
});
