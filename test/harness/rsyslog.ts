import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { freePort } from './net.ts';

/**
 * The project's real-rsyslog receiver for tests and benches: Debian's rsyslogd on 127.0.0.1, parsing
 * RFC 5424 SD, CEF and JSON payloads into `dir/parsed.jsonl` (see rsyslog/README.md).
 * Depends on nothing outside the repository; needs `rsyslogd` (apt-get install rsyslog rsyslog-gnutls).
 */
export interface ReceivedMessage {
  input: string;
  protocol_version: string;
  pri: string;
  timestamp: string;
  hostname: string;
  app_name: string;
  procid: string;
  msgid: string;
  structured_data: string;
  msg: string;
  rawmsg: string;
  parsed: {
    'rfc5424-sd'?: Record<string, Record<string, string>>;
    cef?: {
      DeviceVendor: string;
      DeviceProduct: string;
      DeviceVersion: string;
      SignatureID: string;
      Name: string;
      Severity: string;
      Extensions: Record<string, string>;
    };
    json?: Record<string, unknown>;
  };
}

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
  /** Require a client certificate signed by `ca` (mTLS). */
  requireClientCert?: boolean;
}

export interface RsyslogReceiver {
  dir: string;
  /** TCP and UDP port. */
  port: number;
  /** TLS port (when started with tls). */
  tlsPort: number | undefined;
  /** Every message received so far (lines that fail to parse as JSON are returned as `undefined`-free skips). */
  messages(): ReceivedMessage[];
  /** Polls until at least `count` messages (matching `filter`) arrived, or throws after `timeoutMs`. */
  waitFor(
    count: number,
    options?: { timeoutMs?: number; filter?: (m: ReceivedMessage) => boolean },
  ): Promise<ReceivedMessage[]>;
  /** Stops rsyslogd with a signal (default SIGTERM) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and folder (messages keep accumulating). */
  restart(): Promise<void>;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const RSYSLOGD = process.env.RSYSLOGD ?? '/usr/sbin/rsyslogd';
export const RSYSLOG_MODDIR = process.env.RSYSLOG_MODDIR ?? '/usr/lib/x86_64-linux-gnu/rsyslog';

export function rsyslogAvailable(): boolean {
  return existsSync(RSYSLOGD) && existsSync(join(RSYSLOG_MODDIR, 'mmnormalize.so'));
}

/**
 * Tests that need rsyslog use `describeRsyslog`. Without rsyslogd they skip with one line saying why;
 * with SEALWATCH_REQUIRE_RSYSLOG=1 a missing rsyslogd is a failure.
 */
export function describeRsyslog(name: string, fn: () => void): void {
  if (rsyslogAvailable()) {
    describe(name, fn);
    return;
  }
  const why = `no rsyslogd with mmnormalize at ${RSYSLOGD} / ${RSYSLOG_MODDIR} (apt-get install rsyslog rsyslog-gnutls)`;
  if (process.env.SEALWATCH_REQUIRE_RSYSLOG === '1') {
    describe(name, () => {
      it('needs rsyslog', () => {
        throw new Error(`SEALWATCH_REQUIRE_RSYSLOG=1 but ${why}`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${why})`, fn);
}

/** A TCP port that was free a moment ago (also used for UDP on the same number). */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`rsyslogd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * How the receiver hands CEF to liblognorm. 'rejoin' (default) is the workaround docs/outputs/syslog.md
 * gives for liblognorm 2.0.6, which drops the first character of the first extension key unless a space
 * follows the last header pipe; 'stock' parses the message as it is.
 */
export const CEF_REJOIN = `  set $.cefhdr = re_extract($rawmsg, "CEF:[0-9]+(\\\\|([^|\\\\]|\\\\\\\\.)*){6}\\\\|", 0, 0, "");
  set $.cefext = re_extract($rawmsg, "CEF:[0-9]+(\\\\|([^|\\\\]|\\\\\\\\.)*){6}\\\\|(.*)", 0, 3, "");
  set $.cef = $.cefhdr & " " & $.cefext;
  if $.cefhdr != "" then { action(type="mmnormalize" variable="$.cef" rule=["rule=:%cef:cef%"]) }`;
const CEF_STOCK = `  if re_match($msg, "^CEF:") then { action(type="mmnormalize" rule=["rule=:%cef:cef%"]) }`;

export async function startRsyslog(
  options: { dir?: string; port?: number; tls?: TlsFiles; cef?: 'rejoin' | 'stock' } = {},
): Promise<RsyslogReceiver> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sw-rsyslog-'));
  mkdirSync(join(dir, 'work'), { recursive: true });
  const port = options.port ?? (await freePort());
  const tlsPort = options.tls === undefined ? undefined : await freePort();
  const tls = options.tls;
  const conf = readFileSync(join(HERE, 'rsyslog', 'receiver.conf.in'), 'utf8')
    .replaceAll('@DIR@', dir)
    .replaceAll('@PORT@', String(port))
    .replace(
      '@TLS_GLOBAL@',
      tls === undefined
        ? ''
        : `defaultNetstreamDriverCAFile="${tls.ca}" defaultNetstreamDriverCertFile="${tls.cert}" defaultNetstreamDriverKeyFile="${tls.key}"`,
    )
    .replace('@TLS_MODULE@', '')
    .replace('@CEF_PARSE@', options.cef === 'stock' ? CEF_STOCK : CEF_REJOIN)
    .replace(
      '@TLS_INPUT@',
      tls === undefined
        ? ''
        : `input(type="imtcp" address="127.0.0.1" port="${tlsPort}" ruleset="parse" name="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="${tls.requireClientCert === true ? 'x509/certvalid' : 'anon'}")`,
    );
  const confPath = join(dir, 'rsyslog.conf');
  writeFileSync(confPath, conf);
  const parsedPath = join(dir, 'parsed.jsonl');
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async (): Promise<void> => {
    stderr = '';
    const proc = spawn(RSYSLOGD, ['-n', '-f', confPath, '-M', RSYSLOG_MODDIR, '-i', join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`rsyslogd exited (${code}) while starting: ${stderr}`))),
    );
    await Promise.race([
      (async () => {
        await waitForPort(port, 10_000);
        if (tlsPort !== undefined) await waitForPort(tlsPort, 10_000);
      })(),
      exited,
    ]);
    exited.catch(() => undefined);
  };

  const messages = (): ReceivedMessage[] => {
    if (!existsSync(parsedPath)) return [];
    const out: ReceivedMessage[] = [];
    for (const line of readFileSync(parsedPath, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        // `%$!%` renders as nothing when no parser produced fields.
        out.push(JSON.parse(line.endsWith('"parsed":}') ? `${line.slice(0, -1)}{}}` : line) as ReceivedMessage);
      } catch {
        // a line still being written
      }
    }
    return out;
  };

  await start();
  const receiver: RsyslogReceiver = {
    dir,
    port,
    tlsPort,
    messages,
    async waitFor(count, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
      for (;;) {
        const all = messages();
        const matching = opts.filter === undefined ? all : all.filter(opts.filter);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) {
          throw new Error(`rsyslog received ${matching.length} of ${count} expected messages; stderr: ${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      const proc = child;
      child = undefined;
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill(signal);
      });
    },
    async restart() {
      await receiver.stop();
      await start();
    },
  };
  return receiver;
}

/** A test CA and a server certificate for 127.0.0.1 (and a client certificate), made by openssl. */
export interface TestPki {
  dir: string;
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export async function makeTestPki(dir = mkdtempSync(join(tmpdir(), 'sw-pki-')), name = 'test'): Promise<TestPki> {
  const { execFileSync } = await import('node:child_process');
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const p = (f: string): string => join(dir, f);
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=sealwatch ${name} CA`,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  for (const [who, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    run([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${who === 'server' ? '127.0.0.1' : 'sealwatch-client'}`,
      '-keyout',
      p(`${who}.key`),
      '-out',
      p(`${who}.csr`),
    ]);
    writeFileSync(p(`${who}.ext`), ext);
    run([
      'x509',
      '-req',
      '-in',
      p(`${who}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      p(`${who}.pem`),
      '-extfile',
      p(`${who}.ext`),
    ]);
  }
  return {
    dir,
    ca: p('ca.pem'),
    caKey: p('ca.key'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
  };
}
