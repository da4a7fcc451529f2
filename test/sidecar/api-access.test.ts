import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { createApi, createWatchMetrics, listenApi } from '../../sidecar/api/index.ts';
import type { WatchStatus } from '../../sidecar/pipeline/status.ts';
import { run } from '../harness/exec.ts';
import { started } from './make-events.ts';

/**
 * Who can read the watcher's API (sidecar/api/access.ts), over real HTTP: DNS rebinding (a loopback connection
 * naming another host) is refused on every route; /v1 needs the token when one is set; without one, /v1 answers
 * on loopback only. The non-loopback case runs in a network namespace of its own with a documentation address on
 * its loopback interface (nothing leaves it).
 */
function get(port: number, path: string, headers: Record<string, string> = {}, address = '127.0.0.1') {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: address, port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const status = (): WatchStatus =>
  ({ mode: 'monitor', target: 't', ready: true, ticks: 1, outputs: [] }) as unknown as WatchStatus;

describe('watch API access', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-api-access-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on loopback without a token: /v1 answers to loopback Host names, and a rebinding Host is refused everywhere', async () => {
    const secret = 'curl -H "Authorization: Bearer hunter2" https://internal';
    const app = createApi({
      status,
      events: () => [started({ pid: 7, args: ['sh', '-c', secret] })],
      profile: () => undefined,
      metrics: createWatchMetrics(),
      logger: silentLogger(),
    });
    const { server, port } = await listenApi(app, '127.0.0.1', 0);
    try {
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
        const r = await get(port, '/v1/events', { host });
        expect(r.status, host).toBe(200);
        expect(r.body).toContain('hunter2');
      }
      for (const host of [`evil.example:${port}`, 'attacker.localhost.evil.example', `192.168.1.5:${port}`]) {
        for (const path of ['/v1/events', '/v1/status', '/metrics', '/healthz']) {
          const r = await get(port, path, { host });
          expect(r.status, `${host} ${path}`).toBe(403);
          expect(r.body).not.toContain('hunter2');
        }
      }
    } finally {
      server.close();
    }
  });

  it('with a token: /v1 needs it even on loopback; probes and /metrics do not', async () => {
    const app = createApi({
      status,
      events: () => [],
      profile: () => undefined,
      token: 't0k3n-t0k3n',
      metrics: createWatchMetrics(),
      logger: silentLogger(),
    });
    const { server, port } = await listenApi(app, '127.0.0.1', 0);
    try {
      expect((await get(port, '/v1/status')).status).toBe(401);
      expect((await get(port, '/v1/events', { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await get(port, '/v1/status', { authorization: 'Bearer t0k3n-t0k3n' })).status).toBe(200);
      expect((await get(port, '/metrics')).status).toBe(200);
      expect((await get(port, '/readyz')).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('a port in use is one line naming --listen, not a stack trace', async () => {
    const app = createApi({
      status,
      events: () => [],
      profile: () => undefined,
      metrics: createWatchMetrics(),
      logger: silentLogger(),
    });
    const first = await listenApi(app, '127.0.0.1', 0);
    try {
      const cli = await run(process.execPath, [
        join(REPO_ROOT, 'bin/sealwatch.js'),
        'watch',
        '--listen',
        `127.0.0.1:${first.port}`,
        '--spool-dir',
        join(dir, 'spool'),
        '--',
        'sleep',
        '5',
      ]);
      expect(cli.code).toBe(3);
      const lines = cli.stderr.trim().split('\n');
      expect(lines.at(-1)).toBe(
        `sealwatch: --listen 127.0.0.1:${first.port}: the port is in use (another watcher? pick another port)`,
      );
      expect(cli.stderr).not.toMatch(/\n\s+at /);
    } finally {
      first.server.close();
    }
  });

  it('on another address: /v1 without a token is refused, with the token it answers; /metrics answers', async () => {
    // In a network namespace of its own: a documentation address on lo stands for the pod IP.
    const script = join(dir, 'netns.sh');
    writeFileSync(
      script,
      `set -e
ip link set lo up
ip addr add 198.51.100.7/32 dev lo
cli="${process.execPath} ${join(REPO_ROOT, 'bin/sealwatch.js')} watch --spool-dir ${join(dir, 'spool2')}"
API_TOKEN=t0k3n-t0k3n $cli --listen 0.0.0.0:9464 --api-token-env API_TOKEN -- sleep 30 >/dev/null 2>&1 &
$cli --listen 0.0.0.0:9465 -- sleep 30 >/dev/null 2>&1 &
${process.execPath} -e '
const get = (port, path, headers = {}) => fetch("http://198.51.100.7:" + port + path, { headers }).then((r) => r.status, () => 0);
(async () => {
  for (let i = 0; i < 200 && ((await get(9464, "/healthz")) !== 200 || (await get(9465, "/healthz")) !== 200); i++)
    await new Promise((r) => setTimeout(r, 100));
  console.log(JSON.stringify({
    tokenNone: await get(9464, "/v1/status"),
    tokenGiven: await get(9464, "/v1/status", { authorization: "Bearer t0k3n-t0k3n" }),
    noTokenConfigured: await get(9465, "/v1/events"),
    metrics: await get(9465, "/metrics"),
  }));
})();'
kill $(jobs -p) 2>/dev/null || true
`,
    );
    const result = await run('unshare', ['--net', 'sh', script]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!)).toEqual({
      tokenNone: 401,
      tokenGiven: 200,
      noTokenConfigured: 403,
      metrics: 200,
    });
  }, 60_000);
});
