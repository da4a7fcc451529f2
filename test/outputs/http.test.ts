import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { hostileEvent, HOSTILE, plainEvent } from './events.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * fake-splunk-hec: a real HTTP server on 127.0.0.1 that answers like Splunk's HTTP Event Collector
 * (Splunk itself cannot run here): checks the token, splits the body into events, and can be told
 * to fail with 503 for a while.
 */
interface FakeHec {
  url: string;
  requests: Array<{ auth: string | undefined; body: string }>;
  events: Array<Record<string, unknown>>;
  failNext: number;
  close(): Promise<void>;
}

async function startFakeHec(token: string): Promise<FakeHec> {
  const state: FakeHec = { url: '', requests: [], events: [], failNext: 0, close: () => Promise.resolve() };
  const read = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server: Server = createServer((req, res) => {
    void read(req).then((body) => {
      state.requests.push({ auth: req.headers.authorization, body });
      if (state.failNext > 0) {
        state.failNext--;
        res.writeHead(503).end('{"text":"Server is busy","code":9}');
        return;
      }
      const hec = req.url?.startsWith('/services/collector') === true;
      if (req.headers.authorization !== (hec ? `Splunk ${token}` : `Bearer ${token}`)) {
        res.writeHead(401).end('{"text":"Invalid token","code":4}');
        return;
      }
      if (req.url?.startsWith('/services/collector') === true) {
        for (const line of body.split('\n')) state.events.push(JSON.parse(line) as Record<string, unknown>);
      } else {
        state.events.push(...(JSON.parse(body) as Array<Record<string, unknown>>));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}

describe('HTTP outputs against fake-splunk-hec', () => {
  const servers: FakeHec[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it('Splunk HEC: Authorization: Splunk TOKEN, batched, each event intact', async () => {
    const hec = await startFakeHec('s3cret-token');
    servers.push(hec);
    const d = createDispatcher(
      [parseOutputUrl(`${hec.url}/services/collector/event?token-env=HEC_TOKEN&batch-size=50`)],
      { logger: silentLogger(), runId: 'hec', env: { HEC_TOKEN: 's3cret-token' } },
    );
    const sent = [...Array.from({ length: 120 }, () => plainEvent(5)), hostileEvent(HOSTILE.crlf)];
    for (const e of sent) d.dispatch(e);
    await d.flush();
    await d.close();
    expect(hec.events).toHaveLength(121);
    expect(hec.requests.length).toBeLessThan(121);
    expect(hec.requests.every((r) => r.auth === 'Splunk s3cret-token')).toBe(true);
    const seqs = hec.events.map((e) => (e.event as { sealwatch: { seq: number } }).sealwatch.seq);
    expect(seqs).toEqual(Array.from({ length: 121 }, (_, i) => i + 1));
    const last = hec.events[120]!;
    expect(last.sourcetype).toBe('sealwatch:json');
    expect((last.event as { message: string }).message).toBe(HOSTILE.crlf);
  });

  it('retries after 503s and loses nothing', async () => {
    const hec = await startFakeHec('t');
    servers.push(hec);
    hec.failNext = 3;
    const d = createDispatcher([parseOutputUrl(`${hec.url}/services/collector?token-env=T`)], {
      logger: silentLogger(),
      env: { T: 't' },
    });
    for (let i = 0; i < 30; i++) d.dispatch(plainEvent(5));
    await waitFor('all 30 events past the 3 failures', () => hec.events.length >= 30);
    await d.close();
    expect(hec.events).toHaveLength(30);
    expect(d.stats()[0]!.retried).toBeGreaterThan(0);
  });

  it('webhook: JSON arrays, Authorization: Bearer TOKEN, OCSF when asked', async () => {
    const hook = await startFakeHec('w');
    servers.push(hook);
    const d = createDispatcher([parseOutputUrl(`${hook.url}/hook?type=webhook&format=ocsf&token-env=W`)], {
      logger: silentLogger(),
      env: { W: 'w' },
    });
    for (let i = 0; i < 5; i++) d.dispatch(plainEvent(9));
    await d.close();
    expect(hook.events).toHaveLength(5);
    expect(hook.requests.every((r) => r.auth === 'Bearer w' && r.body.startsWith('['))).toBe(true);
    expect(hook.events.map((e) => e.class_uid)).toEqual([2004, 2004, 2004, 2004, 2004]);
  });

  it('refuses an unset token variable with one clear line', () => {
    expect(() =>
      createDispatcher([parseOutputUrl('http://127.0.0.1:9/services/collector?token-env=NOPE')], {
        logger: silentLogger(),
        env: {},
      }),
    ).toThrow(/token-env=NOPE names an empty or unset variable/);
  });
});
