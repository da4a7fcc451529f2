import { z } from 'zod';
import { OutputError } from '../errors/index.ts';
import { formatIssues } from '../config/index.ts';
import { SEVERITY_FLOOR, SeverityLabel } from '../severity/index.ts';

/**
 * Output URLs (DESIGN.md): where events go and how they are rendered.
 *   syslog+udp://HOST:PORT   syslog+tcp://HOST:PORT   syslog+tls://HOST:PORT
 *   file:///abs/path.jsonl (or file://relative/path)   stdout://   https://HOST/path   http://HOST/path
 * Query parameters: format=, min-severity=, and per-transport options (see OutputQuery).
 */
export const OUTPUT_FORMATS = ['cef', 'leef', 'json', 'ecs', 'ocsf', 'rfc5424'] as const;
export const OutputFormat = z.enum(OUTPUT_FORMATS);
export type OutputFormat = z.infer<typeof OutputFormat>;

const minSeverity = z
  .union([SeverityLabel, z.string().regex(/^(10|[0-9])$/, 'a label (info, low, medium, high, critical) or 0–10')])
  .transform((v) => (/^\d+$/.test(v) ? Number(v) : SEVERITY_FLOOR[v as SeverityLabel]))
  .describe('drop events below this severity');

const positiveInt = z.string().regex(/^\d+$/, 'a whole number').transform(Number);

const OutputQuery = z
  .object({
    format: OutputFormat.optional(),
    'min-severity': minSeverity.optional(),
    // syslog
    framing: z.enum(['octet', 'lf']).optional().describe('TCP/TLS framing: RFC 6587 octet counting (default) or LF'),
    protocol: z.enum(['rfc5424', 'rfc3164']).optional().describe('syslog header format'),
    facility: z
      .string()
      .regex(/^(\d|1\d|2[0-3])$/, '0–23')
      .transform(Number)
      .optional(),
    'max-bytes': positiveInt.optional().describe('UDP datagram cap (default 2048)'),
    ca: z.string().optional().describe('CA file for TLS server verification'),
    cert: z.string().optional().describe('client certificate for mTLS'),
    key: z.string().optional().describe('client key for mTLS'),
    servername: z.string().optional(),
    'leef-delimiter': z.string().optional(),
    // http
    type: z.enum(['splunk-hec', 'webhook']).optional(),
    'token-env': z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional()
      .describe('env var holding the HEC/webhook token'),
    'batch-size': positiveInt.optional(),
    // file
    'rotate-mb': positiveInt.optional(),
    // spool
    'spool-mb': positiveInt.optional().describe('disk spool cap for this output'),
  })
  .strict();
export type OutputQuery = z.infer<typeof OutputQuery>;

interface OutputCommon {
  /** The URL as given, with secrets removed (for logs, metrics labels and status). */
  name: string;
  format: OutputFormat;
  minSeverity: number;
  options: OutputQuery;
}

export type OutputSpec =
  | (OutputCommon & { type: 'syslog'; transport: 'udp' | 'tcp' | 'tls'; host: string; port: number })
  | (OutputCommon & { type: 'file'; path: string })
  | (OutputCommon & { type: 'stdout' })
  | (OutputCommon & { type: 'http'; url: string });

export type OutputType = OutputSpec['type'];

const DEFAULT_PORT = { udp: 514, tcp: 514, tls: 6514 } as const;

export function parseOutputUrl(input: string): OutputSpec {
  const fail = (why: string): never => {
    throw new OutputError('BAD_URL', `--output ${JSON.stringify(input)}: ${why}`);
  };
  if (input === '-' || input === 'stdout' || input === 'stdout://') input = 'stdout://';
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return fail('not a URL; expected e.g. syslog+tcp://127.0.0.1:1514?format=cef or file:///var/log/sealwatch.jsonl');
  }
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key in params) fail(`query parameter "${key}" given twice`);
    params[key] = value;
  }
  const query = OutputQuery.safeParse(params);
  if (!query.success) return fail(formatIssues(query.error.issues, 'query').join('; '));
  const options = query.data;
  const common = (defaultFormat: OutputFormat): OutputCommon => ({
    name: redactUrl(url),
    format: options.format ?? defaultFormat,
    minSeverity: options['min-severity'] ?? 0,
    options,
  });
  const scheme = url.protocol.replace(/:$/, '');
  switch (scheme) {
    case 'syslog+udp':
    case 'syslog+tcp':
    case 'syslog+tls': {
      const transport = scheme.slice('syslog+'.length) as 'udp' | 'tcp' | 'tls';
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (host === '') fail('missing host');
      const port = url.port === '' ? DEFAULT_PORT[transport] : Number(url.port);
      if (url.pathname !== '' && url.pathname !== '/') fail('a syslog URL has no path');
      if (transport !== 'tls' && (options.ca ?? options.cert ?? options.key) !== undefined) {
        fail('ca, cert and key apply only to syslog+tls://');
      }
      if ((options.cert === undefined) !== (options.key === undefined)) fail('mTLS needs both cert and key');
      if (transport === 'udp' && options.framing !== undefined) fail('framing applies only to TCP and TLS');
      return { ...common('cef'), type: 'syslog', transport, host, port };
    }
    case 'file': {
      const path = decodeURIComponent(url.host + url.pathname);
      if (path === '') fail('missing path, e.g. file:///var/log/sealwatch/events.jsonl');
      return { ...common('json'), type: 'file', path };
    }
    case 'stdout':
      return { ...common('json'), type: 'stdout' };
    case 'http':
    case 'https': {
      if (url.username !== '' || url.password !== '')
        fail('put credentials in an env var named by token-env=, not in the URL');
      const clean = new URL(url.href);
      clean.search = '';
      return { ...common('json'), type: 'http', url: clean.href };
    }
    default:
      return fail(`unknown scheme "${scheme}:"; use syslog+udp, syslog+tcp, syslog+tls, file, stdout, http or https`);
  }
}

function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = 'redacted';
  return copy.href;
}
