import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { truncateEscapedUtf8 } from '../formatters/text.ts';
import type { Transport } from './transport.ts';

/**
 * Syslog over UDP on node:dgram: one message per datagram, no trailing LF, cut to `maxBytes`
 * (default 2048) without splitting a UTF-8 character or an escape; cuts are counted. UDP cannot
 * know whether a datagram arrived: only local send errors are failures.
 */
export const UDP_DEFAULT_MAX_BYTES = 2048;

export function createUdpTransport(options: { host: string; port: number; maxBytes?: number }): Transport {
  const maxBytes = options.maxBytes ?? UDP_DEFAULT_MAX_BYTES;
  const type = isIP(options.host) === 6 ? 'udp6' : 'udp4';
  let socket: Socket | undefined;
  let truncated = 0;
  const open = (): Socket => {
    if (socket !== undefined) return socket;
    const s = createSocket(type);
    s.on('error', () => {
      s.close();
      if (socket === s) socket = undefined;
    });
    s.unref();
    socket = s;
    return s;
  };
  return {
    get connected() {
      return true;
    },
    get truncated() {
      return truncated;
    },
    async send(messages) {
      const s = open();
      for (const message of messages) {
        const datagram = truncateEscapedUtf8(message, maxBytes);
        if (datagram.length < message.length) truncated++;
        await new Promise<void>((resolve, reject) =>
          s.send(datagram, options.port, options.host, (error) => (error ? reject(error) : resolve())),
        );
      }
    },
    takeUnconfirmed: () => [],
    async close(_timeoutMs?: number) {
      const s = socket;
      socket = undefined;
      if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
