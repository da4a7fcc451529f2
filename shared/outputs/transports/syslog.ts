import { OutputError } from '../../errors/index.ts';
import type { OutputSpec } from '../url.ts';
import type { Sink, SinkDeps } from '../types.ts';

export function createSyslogSink(spec: Extract<OutputSpec, { type: 'syslog' }>, _deps: SinkDeps): Sink {
  throw new OutputError('UNSUPPORTED', `${spec.name}: syslog outputs are not built yet`);
}
