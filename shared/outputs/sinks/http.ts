import { OutputError } from '../../errors/index.ts';
import type { Event } from '../../events/index.ts';
import { formatterFor } from '../formatters/index.ts';
import type { OutputSpec } from '../url.ts';
import type { Sink, SinkDeps } from '../types.ts';
import { createReliableSink } from './reliable-sink.ts';
import { cappedRenderer } from '../size-cap.ts';
import { createHttpTransport } from '../transports/http.ts';

type HttpSpec = Extract<OutputSpec, { type: 'http' }>;

/**
 * `https://…` outputs: Splunk HTTP Event Collector (`type=splunk-hec`, the default when the path
 * contains /services/collector) or a generic JSON webhook (`type=webhook`). Batched (`batch-size=`,
 * default 100) behind the reliable sink; a batch counts as delivered only on a 2xx answer.
 * The token comes from the env var named by `token-env=` (never from the URL):
 * HEC sends `Authorization: Splunk TOKEN`, a webhook `Authorization: Bearer TOKEN`.
 */
export const HTTP_DEFAULT_BATCH = 100;
const JSON_FORMATS = new Set(['json', 'ecs', 'ocsf']);

export function httpKind(spec: HttpSpec): 'splunk-hec' | 'webhook' {
  return spec.options.type ?? (new URL(spec.url).pathname.includes('/services/collector') ? 'splunk-hec' : 'webhook');
}

export function createHttpSink(spec: HttpSpec, deps: SinkDeps): Sink {
  const kind = httpKind(spec);
  const tokenEnv = spec.options['token-env'];
  const token = tokenEnv === undefined ? undefined : deps.env[tokenEnv];
  if (tokenEnv !== undefined && (token === undefined || token === '')) {
    throw new OutputError('BAD_URL', `--output ${spec.name}: token-env=${tokenEnv} names an empty or unset variable`);
  }
  const body = formatterFor(spec, deps);
  const payload = (event: Event): string => {
    const text = body(event);
    return JSON_FORMATS.has(spec.format) ? text : JSON.stringify(text);
  };
  const render = cappedRenderer(
    spec,
    kind === 'splunk-hec'
      ? (event: Event): string =>
          `{"time":${(Date.parse(event['@timestamp']) / 1000).toFixed(3)},"host":${JSON.stringify(deps.hostname)},"source":"sealwatch","sourcetype":"sealwatch:${spec.format}","event":${payload(event)}}`
      : payload,
  );
  const transport = createHttpTransport({ url: spec.url, kind, token, timeoutMs: deps.connectTimeoutMs });
  return createReliableSink(spec, deps, {
    render,
    transport,
    batchSize: spec.options['batch-size'] ?? HTTP_DEFAULT_BATCH,
  });
}
