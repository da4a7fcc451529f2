import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../shared/logging/index.ts';
import type { AdmissionMetrics, Decision, Webhook } from './metrics.ts';
import {
  AdmissionReview,
  reviewResponse,
  type AdmissionRequest,
  type AdmissionResponse,
  type JsonPatchOp,
} from './review.ts';

export interface AdmissionHandlers {
  validate(request: AdmissionRequest): Promise<AdmissionResponse>;
  mutate(request: AdmissionRequest): { response: AdmissionResponse; patch: JsonPatchOp[] };
  logger: Logger;
  metrics: AdmissionMetrics;
}

/** When each request arrived (for the answer's duration). */
const STARTED = new WeakMap<Request, number>();
const WEBHOOK_OF_PATH = new Map<string, Webhook>([
  ['/validate', 'validate'],
  ['/mutate', 'mutate'],
]);

/** An AdmissionReview object may be big (a pod with large annotations); the API server's own limit is ~3 MiB. */
const BODY_LIMIT = '6mb';

/**
 * The webhook's HTTP surface: POST /validate and /mutate take an AdmissionReview v1 and answer one;
 * GET /healthz, and GET /metrics (Prometheus). A body that is not an AdmissionReview is a 400 with one line
 * (the API server then applies the webhook's failurePolicy). An unexpected error refuses (never admits by
 * accident) with its reason. Each answer is counted by webhook and decision, and timed.
 */
export function createAdmissionApp(handlers: AdmissionHandlers): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // the clock starts before the body is read: the API server waits for all of it
  app.use((req, _res, next) => {
    STARTED.set(req, performance.now());
    next();
  });
  app.use(express.json({ limit: BODY_LIMIT, type: ['application/json'] }));
  const answered = (req: Request, webhook: Webhook, decision: Decision): void => {
    const started = STARTED.get(req);
    handlers.metrics.review(webhook, decision, started === undefined ? 0 : (performance.now() - started) / 1000);
  };
  const parse = (req: Request, res: Response, webhook: Webhook): AdmissionRequest | undefined => {
    const review = AdmissionReview.safeParse(req.body);
    if (!review.success) {
      answered(req, webhook, 'invalid');
      const issue = review.error.issues[0];
      res.status(400).json({
        error: `not an AdmissionReview v1: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
      });
      return undefined;
    }
    return review.data.request;
  };
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(handlers.metrics.registry.contentType).send(await handlers.metrics.registry.metrics());
  });
  app.post('/validate', async (req: Request, res: Response) => {
    const request = parse(req, res, 'validate');
    if (!request) return;
    let response: AdmissionResponse;
    let decision: Decision;
    try {
      response = await handlers.validate(request);
      decision = response.allowed ? 'allowed' : 'denied';
    } catch (error) {
      handlers.logger.error('admission: validation failed unexpectedly', { error: String(error) });
      response = {
        uid: request.uid,
        allowed: false,
        status: { code: 500, message: `sealwatch: internal error while checking: ${String(error).slice(0, 200)}` },
      };
      decision = 'error';
    }
    res.json(reviewResponse(response));
    answered(req, 'validate', decision);
  });
  app.post('/mutate', (req: Request, res: Response) => {
    const request = parse(req, res, 'mutate');
    if (!request) return;
    const { response, patch } = handlers.mutate(request);
    res.json(reviewResponse(response, patch));
    answered(req, 'mutate', response.allowed ? 'allowed' : 'denied');
  });
  app.use((err: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    const webhook = WEBHOOK_OF_PATH.get(req.path);
    if (webhook !== undefined) answered(req, webhook, 'invalid');
    const status = z.object({ status: z.number() }).safeParse(err);
    res
      .status(status.success ? status.data.status : 400)
      .json({ error: 'not an AdmissionReview v1: unreadable JSON body' });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}

export interface TlsFiles {
  cert: string;
  key: string;
}

/**
 * HTTPS with the serving certificate from files; when they change (cert-manager renews the Secret, the
 * kubelet updates the mount) the new pair is loaded without a restart.
 */
export async function listenHttps(
  app: express.Express,
  tls: TlsFiles,
  host: string,
  port: number,
  logger: Logger,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const read = () => ({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) });
  const stamp = () => `${statSync(tls.cert).mtimeMs}/${statSync(tls.key).mtimeMs}`;
  let last = stamp();
  const server = createServer({ ...read(), minVersion: 'TLSv1.2' }, app);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const reload = setInterval(() => {
    try {
      const now = stamp();
      if (now === last) return;
      server.setSecureContext({ ...read(), minVersion: 'TLSv1.2' });
      last = now;
      logger.info('admission: serving certificate reloaded');
    } catch (error) {
      logger.warn('admission: cannot reload the serving certificate; keeping the old one', { error: String(error) });
    }
  }, 30_000);
  reload.unref();
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise((resolve) => {
        clearInterval(reload);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
