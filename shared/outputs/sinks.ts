import type { OutputSpec, OutputType } from './url.ts';
import type { SinkFactory } from './types.ts';
import { createFileSink } from './transports/file.ts';
import { createHttpSink } from './transports/http.ts';
import { createStdoutSink } from './transports/stdout.ts';
import { createSyslogSink } from './transports/syslog.ts';

/** Every output type and its sink; a new type fails to compile until it is listed here. */
export const SINKS = {
  syslog: createSyslogSink,
  file: createFileSink,
  stdout: createStdoutSink,
  http: createHttpSink,
} satisfies { [T in OutputType]: SinkFactory<Extract<OutputSpec, { type: T }>> };
