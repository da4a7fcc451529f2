import { OutputError } from '../../errors/index.ts';
import type { OutputSpec } from '../url.ts';
import type { Sink, SinkDeps } from '../types.ts';

export function createHttpSink(spec: Extract<OutputSpec, { type: 'http' }>, _deps: SinkDeps): Sink {
  throw new OutputError('UNSUPPORTED', `${spec.name}: http outputs are not built yet`);
}
