import type { OutputSpec, OutputType } from '../url.ts';
import type { SinkFactory } from '../types.ts';
import { createFileSink } from './file.ts';
import { createHttpSink } from './http.ts';
import { createStdoutSink } from './stdout.ts';
import { createSyslogSink } from './syslog.ts';

/** Every output type and its sink; a new type fails to compile until it is listed here. */
export const SINKS = {
  syslog: createSyslogSink,
  file: createFileSink,
  stdout: createStdoutSink,
  http: createHttpSink,
} satisfies { [T in OutputType]: SinkFactory<Extract<OutputSpec, { type: T }>> };
