import { z } from 'zod';
import { OutputError } from '../errors/index.ts';
import { formatIssues } from '../config/index.ts';
import { SEVERITY_FLOOR, SeverityLabel } from '../severity/index.ts';

/**
 * Output URLs (docs/outputs/): where events go and how they are rendered.
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

const positiveInt = z
  .string()
  .regex(/^\d+$/, 'a whole number')
  .transform(Number)
  .refine((n) => n > 0, 'must be at least 1');

/** Smallest size cap: RFC 5425 (and 5426) receivers must accept messages of 2,048 octets. */
export const MIN_MAX_BYTES = 2048;

/** Every query option any output takes; QUERY_KEYS says which apply to which output type. */
const OutputQuery = z
  .object({
    format: OutputFormat.optional(),
    'min-severity': minSeverity.optional(),
    'max-bytes': z
      .string()
      .regex(/^\d+$/, 'a whole number of bytes')
      .transform(Number)
      .refine(
        (n) => n >= MIN_MAX_BYTES && n <= 16 * 1024 * 1024,
        `from ${MIN_MAX_BYTES} (what every receiver must accept) to 16777216`,
      )
      .optional()
      .describe('size cap of one message in bytes; longer events are shortened, longest fields first'),
    // syslog
    framing: z.enum(['octet', 'lf']).optional().describe('TCP/TLS framing: RFC 6587 octet counting (default) or LF'),
    protocol: z.enum(['rfc5424', 'rfc3164']).optional().describe('syslog header format'),
    facility: z
      .string()
      .regex(/^(\d|1\d|2[0-3])$/, '0–23')
      .transform(Number)
      .optional(),
    ca: z.string().optional().describe('CA file for TLS server verification'),
    cert: z.string().optional().describe('client certificate for mTLS'),
    key: z.string().optional().describe('client key for mTLS'),
    servername: z.string().optional(),
    'leef-delimiter': z
      .enum(['tab', '^', '|', '~'])
      .transform((v) => (v === 'tab' ? '\t' : v))
      .optional()
      .describe('LEEF 2.0 attribute delimiter'),
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
type QueryKey = keyof OutputQuery;

const EVERY_OUTPUT: readonly QueryKey[] = ['format', 'min-severity', 'max-bytes', 'leef-delimiter'];
/** The options each output type takes; any other is an error naming the ones that apply. */
export const QUERY_KEYS = {
  syslog: [...EVERY_OUTPUT, 'framing', 'protocol', 'facility', 'ca', 'cert', 'key', 'servername', 'spool-mb'],
  file: [...EVERY_OUTPUT, 'facility', 'rotate-mb'],
  stdout: [...EVERY_OUTPUT, 'facility'],
  http: [...EVERY_OUTPUT, 'type', 'token-env', 'batch-size', 'spool-mb'],
} as const satisfies Record<string, readonly QueryKey[]>;

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
/** The largest UDP payload over IPv4. */
const UDP_MAX_PAYLOAD = 65_507;
const TYPE_OF_SCHEME: Record<string, OutputType | undefined> = {
  'syslog+udp': 'syslog',
  'syslog+tcp': 'syslog',
  'syslog+tls': 'syslog',
  file: 'file',
  stdout: 'stdout',
  http: 'http',
  https: 'http',
};

/**
 * The URL as it may be shown: the password of `user:password@` replaced, even when the text does not
 * parse as a URL (every `@` after `://` may end a user-info part, so all of it up to the last `@` is
 * treated as one).
 */
export function redactOutputUrl(input: string): string {
  const start = input.indexOf('://');
  const at = input.lastIndexOf('@');
  if (start < 0 || at < start) return input;
  const userinfo = input.slice(start + 3, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return input;
  return `${input.slice(0, start + 3)}${userinfo.slice(0, colon)}:redacted${input.slice(at)}`;
}

export function parseOutputUrl(input: string): OutputSpec {
  const shown = JSON.stringify(redactOutputUrl(input));
  const fail = (why: string): never => {
    throw new OutputError('BAD_URL', `--output ${shown}: ${why}`);
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
  const scheme = url.protocol.replace(/:$/, '');
  const type = TYPE_OF_SCHEME[scheme];
  if (type === undefined) {
    return fail(`unknown scheme "${scheme}:"; use syslog+udp, syslog+tcp, syslog+tls, file, stdout, http or https`);
  }
  const allowed: readonly string[] = QUERY_KEYS[type];
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key))
      fail(`${key}= does not apply to ${scheme}:// outputs (they take ${allowed.join(', ')})`);
  }
  const query = OutputQuery.safeParse(params);
  if (!query.success) return fail(formatIssues(query.error.issues, 'query').join('; '));
  const options = query.data;
  const format = options.format ?? (type === 'syslog' ? 'cef' : 'json');
  if (options['leef-delimiter'] !== undefined && format !== 'leef') fail('leef-delimiter applies only to format=leef');
  if (options.facility !== undefined && type !== 'syslog' && format !== 'rfc5424') {
    fail('facility applies only to syslog outputs and format=rfc5424');
  }
  const common = (defaultFormat: OutputFormat): OutputCommon => ({
    name: redactUrl(url),
    format: options.format ?? defaultFormat,
    minSeverity: options['min-severity'] ?? 0,
    options,
  });
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
      if (transport === 'udp' && (options['max-bytes'] ?? 0) > UDP_MAX_PAYLOAD) {
        fail(`max-bytes over UDP is at most ${UDP_MAX_PAYLOAD} (one datagram)`);
      }
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
