import { createServer, type Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { EnvironmentError } from '../../shared/errors/index.ts';
import type { Event } from '../../shared/events/index.ts';
import type { Logger } from '../../shared/logging/index.ts';
import type { Profile } from '../../shared/profile/index.ts';
import type { WatchStatus } from '../pipeline/status.ts';
import { loopbackHostGuard, readAccess } from './access.ts';
import type { WatchMetrics } from './metrics.ts';

/**
 * The watcher's HTTP API (127.0.0.1 by default): health, readiness, Prometheus metrics, status,
 * recent events and the active profile. Reading /v1 needs the bearer token when one is configured (loopback only
 * without one), and a loopback connection must name a loopback Host (access.ts). Anything that changes state
 * (ending learning) needs the token; without a configured token those routes are off.
 */
export interface ApiDeps {
  status(): WatchStatus;
  events(query: { since?: string; rule?: string; limit: number }): Event[];
  profile(): Profile | undefined;
  /** Ends learning and returns the learned profile; undefined when not learning. */
  endLearning?(): Promise<Profile | undefined>;
  token?: string;
  metrics: WatchMetrics;
  logger: Logger;
}

const EventsQuery = z
  .object({
    since: z
      .string()
      .refine((s) => /^\d+$/.test(s) || !Number.isNaN(Date.parse(s)), 'an ISO 8601 time or a sequence number')
      .optional(),
    rule: z.string().max(200).optional(),
    limit: z
      .string()
      .regex(/^\d{1,5}$/)
      .transform(Number)
      .optional(),
  })
  .strict();

export function createApi(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // who may read what: access.ts (Host check on loopback; /v1 needs the token when one is set, loopback otherwise)
  app.use(loopbackHostGuard);
  app.use('/v1', readAccess(deps.token));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', (_req, res) => {
    const s = deps.status();
    res.status(s.ready ? 200 : 503).json({
      ready: s.ready,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      sourcesRunning: s.sourcesRunning,
      profileLoaded: s.profileLoaded,
    });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  app.get('/v1/status', (_req, res) => {
    res.json(deps.status());
  });
  app.get('/v1/events', (req: Request, res: Response) => {
    const parsed = EventsQuery.safeParse(req.query);
    if (!parsed.success) {
      res.status(400).json({ error: z.prettifyError(parsed.error) });
      return;
    }
    res.json({ events: deps.events({ ...parsed.data, limit: parsed.data.limit ?? 100 }) });
  });
  app.get('/v1/profile', (_req, res) => {
    const profile = deps.profile();
    if (!profile) res.status(404).json({ error: 'no profile loaded' });
    else res.json(profile);
  });
  app.post('/v1/learn/end', async (_req: Request, res: Response) => {
    if (!deps.token || !deps.endLearning) {
      res.status(404).json({ error: 'learning control is off (start with --api-token-env)' });
      return;
    }
    // the bearer token was checked by readAccess (a token is configured)
    const profile = await deps.endLearning();
    if (!profile) res.status(409).json({ error: 'not learning' });
    else res.json({ ok: true, profile });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}

/** Listens on HOST:PORT (port 0 picks one); resolves with the server and the bound port. */
export async function listenApi(
  app: express.Express,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? 'the port is in use (another watcher? pick another port)'
          : error.code === 'EACCES'
            ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
            : error.code === 'EADDRNOTAVAIL'
              ? 'no such address on this host'
              : (error.code ?? error.message);
      reject(
        new EnvironmentError(error.code === 'EACCES' ? 'PERMISSION_DENIED' : 'IO', `--listen ${host}:${port}: ${why}`, {
          cause: error,
        }),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}
