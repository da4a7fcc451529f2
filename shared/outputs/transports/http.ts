import type { Transport } from './transport.ts';

/**
 * HTTP POST of a batch (Splunk HEC: newline-joined events; webhook: a JSON array). A batch is delivered
 * only on a 2xx answer; the token goes into the Authorization header and nowhere else.
 */
export function createHttpTransport(options: {
  url: string;
  kind: 'splunk-hec' | 'webhook';
  token?: string;
  timeoutMs?: number;
}): Transport {
  let connected = false;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'sealwatch' };
  if (options.token !== undefined) {
    headers.authorization = options.kind === 'splunk-hec' ? `Splunk ${options.token}` : `Bearer ${options.token}`;
  }
  return {
    get connected() {
      return connected;
    },
    truncated: 0,
    async send(messages) {
      const body =
        options.kind === 'splunk-hec'
          ? messages.map((m) => m.toString('utf8')).join('\n')
          : `[${messages.map((m) => m.toString('utf8')).join(',')}]`;
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        connected = false;
        throw error;
      }
      // Drain the body so the connection can be reused.
      const text = await response.text().catch(() => '');
      if (!response.ok) {
        connected = false;
        throw new Error(`HTTP ${response.status} ${response.statusText}: ${text.slice(0, 200)}`);
      }
      connected = true;
    },
    takeUnconfirmed: () => [],
    close: () => Promise.resolve(),
  };
}
