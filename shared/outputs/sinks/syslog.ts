import { readFileSync } from 'node:fs';
import { OutputError } from '../../errors/index.ts';
import type { Event } from '../../events/index.ts';
import { formatterFor } from '../formatters/index.ts';
import { formatRfc3164 } from '../formatters/rfc3164.ts';
import { formatRfc5424 } from '../formatters/rfc5424.ts';
import type { OutputSpec } from '../url.ts';
import type { Sink, SinkDeps } from '../types.ts';
import { createReliableSink } from './reliable-sink.ts';
import { cappedRenderer, maxBytesOf } from '../size-cap.ts';
import { createStreamTransport } from '../transports/syslog-stream.ts';
import { createUdpTransport } from '../transports/syslog-udp.ts';
import type { Transport } from '../transports/transport.ts';

type SyslogSpec = Extract<OutputSpec, { type: 'syslog' }>;

/**
 * `syslog+udp://`, `syslog+tcp://`, `syslog+tls://`: the payload (CEF by default, or LEEF/JSON) in an
 * RFC 5424 header (or RFC 3164 with `protocol=rfc3164`); `format=rfc5424` puts our fields in
 * structured data instead. Behind the reliable sink (queue, spool, retries).
 */
export function syslogRenderer(
  spec: SyslogSpec,
  deps: Pick<SinkDeps, 'version' | 'hostname'>,
  onTruncated: () => void = () => undefined,
): (event: Event) => string {
  const protocol = spec.options.protocol ?? 'rfc5424';
  if (spec.format === 'rfc5424' && protocol === 'rfc3164') {
    throw new OutputError('BAD_URL', `--output ${spec.name}: format=rfc5424 cannot be sent with protocol=rfc3164`);
  }
  const body = formatterFor(spec, deps);
  const header = { hostname: deps.hostname, facility: spec.options.facility };
  if (spec.format === 'rfc5424') return body;
  if (protocol === 'rfc3164') {
    return (event) => {
      const { line, truncated } = formatRfc3164(event, body(event), header);
      if (truncated) onTruncated();
      return line;
    };
  }
  // CEF makes every value well-formed itself: no second pass over the whole message.
  const wellFormedBody = spec.format === 'cef';
  return (event) => formatRfc5424(event, body(event), header, '-', wellFormedBody);
}

function readOption(spec: SyslogSpec, key: 'ca' | 'cert' | 'key'): Buffer | undefined {
  const path = spec.options[key];
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new OutputError('BAD_URL', `--output ${spec.name}: ${key}=${path} cannot be read`, { cause: error });
  }
}

export function createSyslogSink(spec: SyslogSpec, deps: SinkDeps): Sink {
  let cutToRfc3164 = 0;
  const render = cappedRenderer(
    spec,
    syslogRenderer(spec, deps, () => cutToRfc3164++),
  );
  const inner =
    spec.transport === 'udp'
      ? createUdpTransport({ host: spec.host, port: spec.port, maxBytes: maxBytesOf(spec) })
      : createStreamTransport({
          host: spec.host,
          port: spec.port,
          framing: spec.options.framing ?? 'octet',
          connectTimeoutMs: deps.connectTimeoutMs,
          logger: deps.logger,
          tls:
            spec.transport === 'tls'
              ? {
                  ca: readOption(spec, 'ca'),
                  cert: readOption(spec, 'cert'),
                  key: readOption(spec, 'key'),
                  servername: spec.options.servername,
                }
              : undefined,
        });
  // Messages cut to RFC 3164's 1024 bytes count as truncated too.
  const transport: Transport = {
    send: (messages) => inner.send(messages),
    takeUnconfirmed: () => inner.takeUnconfirmed(),
    onBreak: (listener) => inner.onBreak?.(listener),
    close: (timeoutMs) => inner.close(timeoutMs),
    get connected() {
      return inner.connected;
    },
    get truncated() {
      return inner.truncated + cutToRfc3164;
    },
  };
  return createReliableSink(spec, deps, { render, transport });
}
