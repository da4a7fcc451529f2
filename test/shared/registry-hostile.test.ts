import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '../harness/cli.ts';

/**
 * A hostile registry: what the real docker-registry never sends (a cross-origin next page, a redirect away,
 * endless bodies, a stalled answer) comes from a small HTTP server on 127.0.0.1 named for what it fakes.
 * Every case goes through the real CLI, so it holds whatever module the registry reader lives in.
 */
interface Recorded {
  path: string;
  authorization?: string;
}

function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` });
    }),
  );
}

const USER = 'auditor';
const PASSWORD = 'S3CRET-registry-pw';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

describe('registry reader against a hostile registry (fake-hostile-registry on 127.0.0.1)', () => {
  let other: { server: Server; url: string };
  let hostile: { server: Server; url: string };
  const seenByOther: Recorded[] = [];
  let mode: 'cross-origin-link' | 'redirect-away' | 'huge-tag-list' | 'stall' = 'cross-origin-link';

  beforeAll(async () => {
    other = await listen((req, res) => {
      seenByOther.push({
        path: req.url ?? '',
        ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"app","tags":["stolen"]}');
    });
    hostile = await listen((req, res) => {
      if (req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"' }).end();
        return;
      }
      if (mode === 'cross-origin-link') {
        res
          .writeHead(200, {
            'content-type': 'application/json',
            link: `<${other.url}/v2/app/tags/list?n=1000&last=a>; rel="next"`,
          })
          .end('{"name":"app","tags":["a"]}');
      } else if (mode === 'redirect-away') {
        res.writeHead(307, { location: `${other.url}/v2/app/tags/list` }).end();
      } else if (mode === 'huge-tag-list') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"name":"app","tags":[');
        const chunk = `${'"x",'.repeat(16_384)}`;
        let sent = 0;
        const more = (): void => {
          while (sent < 2_000 && res.write(chunk)) sent++;
          if (sent < 2_000) res.once('drain', more);
          else res.end('"y"]}');
        };
        more();
      } else {
        // headers, then nothing: a registry that stalls mid-answer
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"name":"app","tags":[');
      }
    });
  });

  afterAll(async () => {
    hostile.server.closeAllConnections();
    other.server.closeAllConnections();
    await new Promise((r) => hostile.server.close(r));
    await new Promise((r) => other.server.close(r));
  });

  const latest = (extra: string[] = []) =>
    runCliCaptured(
      [
        'audit',
        'latest',
        `${hostile.url.replace('http://', '')}/app`,
        '--username',
        USER,
        '--password-env',
        'REG_PW',
        ...extra,
      ],
      { cwd: '/', env: { REG_PW: PASSWORD } },
    );

  it('never sends the registry credentials to another origin named by a Link: rel="next" header', async () => {
    mode = 'cross-origin-link';
    seenByOther.length = 0;
    const run = await latest();
    expect(seenByOther.filter((r) => r.authorization !== undefined)).toEqual([]);
    expect(run.code).toBe(3);
    expect(run.stderr.trim()).toBe(
      `sealwatch: registry ${hostile.url}: tags of app: the next page is on another origin (${other.url}); not followed`,
    );
    expect(run.stderr + run.stdout).not.toContain(PASSWORD);
  });

  it('never sends the credentials along a redirect to another origin', async () => {
    mode = 'redirect-away';
    seenByOther.length = 0;
    const run = await latest();
    expect(seenByOther.filter((r) => r.authorization !== undefined)).toEqual([]);
    // the redirected request itself is made without credentials (blob stores do this), and here it answers
    expect(run.stderr + run.stdout).not.toContain(PASSWORD);
  });

  it('cuts a response body that exceeds its bound, with one line', async () => {
    mode = 'huge-tag-list';
    const run = await latest();
    expect(run.code).toBe(3);
    expect(run.stderr.trim()).toMatch(
      new RegExp(
        `^sealwatch: registry ${hostile.url}: tags of app: the response exceeds \\d+ bytes; not read further$`,
      ),
    );
  });

  it('gives up on a registry that stalls, within its time bound, with one line', async () => {
    mode = 'stall';
    const run = await latest(['--timeout', '1.5']);
    expect(run.code).toBe(3);
    expect(run.stderr.trim()).toBe(`sealwatch: registry ${hostile.url}: tags of app: no answer within 1.5 s`);
  });
});
