import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';
import type { Logger } from '../../logging/index.ts';
import type { Transport } from './transport.ts';
import { oneLine } from './one-line.ts';

/**
 * Syslog over TCP or TLS (RFC 6587 / RFC 5425) on node:net / node:tls: one long-lived connection,
 * opened on first use and re-opened after a failure (the sink's backoff paces the attempts).
 * Framing: octet counting (`LEN SP MSG`, LEN = Buffer.byteLength) or LF (raw CR/LF in a message
 * become the text `\r`/`\n`, so a value can never start a second message). Writes wait for
 * 'drain' (backpressure). TLS always verifies the server certificate (`ca=` adds a trust anchor;
 * `cert=`/`key=` give a client certificate for mTLS).
 *
 * Syslog has no application-level acknowledgement, so messages written within the last
 * `resendWindowMs` (default 3 s, at most 16 MB) are kept and handed back by takeUnconfirmed()
 * when the connection breaks: they may still have been in flight or in the receiver's buffers.
 */
export interface StreamTransportOptions {
  host: string;
  port: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
  framing: 'octet' | 'lf';
  logger: Logger;
  connectTimeoutMs?: number;
  resendWindowMs?: number;
  resendWindowBytes?: number;
}

export function frameOctet(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/** Octet-counts a batch into one buffer (one allocation for the whole batch). */
export function frameOctetBatch(messages: readonly Buffer[]): Buffer {
  const prefixes = messages.map((m) => `${m.length} `);
  let total = 0;
  for (let i = 0; i < messages.length; i++) total += prefixes[i]!.length + messages[i]!.length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    at += out.write(prefixes[i]!, at, 'latin1');
    at += messages[i]!.copy(out, at);
  }
  return out;
}

export function frameLf(message: Buffer): Buffer {
  const text = message.toString('utf8');
  const clean = oneLine(text);
  return Buffer.from(`${clean}\n`, 'utf8');
}

export function createStreamTransport(options: StreamTransportOptions): Transport {
  const frame = options.framing === 'lf' ? frameLf : frameOctet;
  const windowMs = options.resendWindowMs ?? 3000;
  const windowBytes = options.resendWindowBytes ?? 16 * 1024 * 1024;
  let socket: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  let broken: Error | undefined;
  let recent: Array<{ at: number; messages: readonly Buffer[]; bytes: number }> = [];
  let recentBytes = 0;
  let breakListener: (() => void) | undefined;

  const open = (): Promise<Socket> => {
    if (socket !== undefined && broken === undefined) return Promise.resolve(socket);
    connecting ??= new Promise<Socket>((resolve, reject) => {
      const common = { host: options.host, port: options.port };
      let s: Socket;
      if (options.tls !== undefined) {
        const t = options.tls;
        const tlsOptions: ConnectionOptions = {
          ...common,
          ca: t.ca,
          cert: t.cert,
          key: t.key,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        };
        const servername = t.servername ?? (isIP(options.host) === 0 ? options.host : undefined);
        if (servername !== undefined) tlsOptions.servername = servername;
        s = tlsConnect(tlsOptions);
      } else {
        s = netConnect(common);
      }
      const timeoutMs = options.connectTimeoutMs ?? 10_000;
      const peer = `${options.host}:${options.port}`;
      // TLS: once TCP is up, a missing handshake is the server's fault, not the network's (a plaintext
      // syslog port reads the ClientHello as a message and never answers): say which it was.
      let tcpUp = false;
      if (options.tls !== undefined) s.once('connect', () => (tcpUp = true));
      const timer = setTimeout(
        () =>
          s.destroy(
            new Error(
              tcpUp
                ? `TLS handshake with ${peer} failed: connected, but no TLS answer within ${timeoutMs} ms (a plaintext port?)`
                : `connect to ${peer} timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      const onError = (error: Error): void => {
        clearTimeout(timer);
        s.destroy();
        const tlsFailure = options.tls !== undefined && tcpUp && !error.message.startsWith('TLS handshake');
        reject(tlsFailure ? new Error(`TLS handshake with ${peer} failed: ${error.message}`, { cause: error }) : error);
      };
      s.once('error', onError);
      s.once(options.tls !== undefined ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', onError);
        // We batch ourselves; Nagle would hold a small batch back until the previous one is ACKed.
        s.setNoDelay(true);
        s.setKeepAlive(true, 30_000);
        broken = undefined;
        socket = s;
        const fail = (error: Error): void => {
          if (socket !== s || broken !== undefined) return;
          broken = error;
          breakListener?.();
        };
        s.on('error', fail);
        // A syslog receiver never talks back; its FIN means it went away.
        s.on('end', () => fail(new Error('receiver closed the connection')));
        s.on('close', () => fail(new Error('connection closed')));
        s.on('data', () => undefined);
        resolve(s);
      });
    }).finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  const remember = (messages: readonly Buffer[]): void => {
    const now = Date.now();
    const bytes = messages.reduce((n, m) => n + m.length, 0);
    recent.push({ at: now, messages, bytes });
    recentBytes += bytes;
    while (recent.length > 0 && (recent[0]!.at < now - windowMs || recentBytes > windowBytes)) {
      recentBytes -= recent.shift()!.bytes;
    }
  };

  /** Read through a function: callbacks change `broken` while send() awaits. */
  const current = (): Error | undefined => broken;

  const drop = (): void => {
    socket?.destroy();
    socket = undefined;
  };

  return {
    get connected() {
      return socket !== undefined && broken === undefined;
    },
    truncated: 0,
    onBreak(listener) {
      breakListener = listener;
    },
    async send(messages) {
      // A connection that broke since the last send: report it, so the sink resends the window.
      const earlier = socket === undefined ? undefined : current();
      if (earlier !== undefined) throw earlier;
      const s = await open();
      if (broken !== undefined) {
        drop();
        throw broken;
      }
      const data = options.framing === 'lf' ? Buffer.concat(messages.map(frame)) : frameOctetBatch(messages);
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (error?: Error | null): void => {
          if (settled) return;
          settled = true;
          s.off('close', onClose);
          s.off('drain', onDrain);
          if (error) reject(error);
          else resolve();
        };
        const onClose = (): void => finish(broken ?? new Error('connection closed'));
        let written = false;
        let drained = true;
        const onDrain = (): void => {
          drained = true;
          if (written) finish();
        };
        s.once('close', onClose);
        drained = s.write(data, (error) => {
          written = true;
          if (error) finish(error);
          else if (drained) finish();
        });
        if (!drained) s.once('drain', onDrain);
      });
      const after = current();
      if (after !== undefined) {
        drop();
        throw after;
      }
      remember(messages);
    },
    takeUnconfirmed() {
      const out = recent.flatMap((r) => r.messages);
      recent = [];
      recentBytes = 0;
      drop();
      return out;
    },
    async close(timeoutMs = 1000) {
      const s = socket;
      socket = undefined;
      if (s === undefined) return;
      await new Promise<void>((resolve) => {
        s.end(() => resolve());
        setTimeout(resolve, Math.min(1000, timeoutMs)).unref();
      });
      s.destroy();
    },
  };
}
