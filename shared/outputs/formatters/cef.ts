import type { Event } from '../../events/index.ts';
import type { Formatter } from '../types.ts';
import { basename, commandLine, truncateUtf8, wellFormed } from './text.ts';

/**
 * ArcSight CEF:0. Header fields escape `\` and `|` and turn CR/LF into spaces; extension values
 * escape `\`, `=`, and newlines as `\n`/`\r`, and never `|` (liblognorm rejects `\|` there).
 * Keys come from the CEF standard dictionary only, each value cut to the key's documented maximum
 * (in UTF-8 bytes, before escaping, never splitting a character); empty values are left out.
 */

/** Standard dictionary keys we use, with their documented maximum lengths. */
export const CEF_KEYS = {
  rt: 64,
  act: 63,
  cat: 1023,
  msg: 1023,
  outcome: 63,
  reason: 1023,
  src: 64,
  dst: 64,
  c6a2: 64,
  c6a3: 64,
  spt: 8,
  dpt: 8,
  proto: 31,
  suser: 1023,
  suid: 1023,
  sproc: 1023,
  spid: 16,
  dproc: 1023,
  dpid: 16,
  fname: 1023,
  filePath: 1023,
  dvchost: 100,
  deviceExternalId: 255,
  externalId: 40,
  cn1: 24,
  cn1Label: 1023,
  flexString1: 1023,
  flexString1Label: 1023,
  cs1: 4000,
  cs1Label: 1023,
  cs2: 4000,
  cs2Label: 1023,
  cs3: 4000,
  cs3Label: 1023,
  cs4: 4000,
  cs4Label: 1023,
  cs5: 4000,
  cs5Label: 1023,
  cs6: 4000,
  cs6Label: 1023,
} as const;
export type CefKey = keyof typeof CEF_KEYS;

/** Header field maxima (vendor/product/version 63, signature id 1023, name 512). */
const HEADER_MAX = { vendor: 63, product: 63, version: 63, signature: 1023, name: 512 } as const;

const HEADER_SPECIAL = /[\\|\r\n]/;
const HEADER_PIPE_SLASH = /[\\|]/g;
const HEADER_NEWLINES = /\r\n|[\r\n]/g;
const VALUE_SPECIAL = /[\\=\r\n]/;

export function escapeCefHeader(value: string): string {
  if (!HEADER_SPECIAL.test(value)) return value;
  return value.replace(HEADER_PIPE_SLASH, '\\$&').replace(HEADER_NEWLINES, ' ');
}

/** One pass: `\` and `=` get a backslash, CR/LF become the text `\r`/`\n`. */
export function escapeCefValue(value: string): string {
  if (!VALUE_SPECIAL.test(value)) return value;
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let rep: string;
    if (c === 92) rep = '\\\\';
    else if (c === 61) rep = '\\=';
    else if (c === 10) rep = '\\n';
    else if (c === 13) rep = '\\r';
    else continue;
    out += value.slice(from, i) + rep;
    from = i + 1;
  }
  return out + value.slice(from);
}

function header(value: string, max: number): string {
  return escapeCefHeader(truncateUtf8(wellFormed(value), max));
}

const isIpv6 = (ip: string): boolean => ip.includes(':');

/** The extension fields of an event, in a fixed order, before truncation and escaping. */
export function cefExtension(event: Event): Array<[CefKey, string | number | undefined]> {
  const p = event.process;
  const image = event.container?.image;
  const imageRef =
    image === undefined ? undefined : [image.name, image.digest ?? image.id].filter((v) => v !== undefined).join('@');
  const ip = (e: Event['source'], v4: 'src' | 'dst', v6: 'c6a2' | 'c6a3'): Array<[CefKey, string | undefined]> =>
    e?.ip === undefined ? [] : isIpv6(e.ip) ? [[v6, e.ip]] : [[v4, e.ip]];
  const labelled = (
    key: 'cs1' | 'cs2' | 'cs3' | 'cs4' | 'cs5' | 'cs6' | 'cn1' | 'flexString1',
    label: string,
    value: string | number | undefined,
  ): Array<[CefKey, string | number | undefined]> =>
    value === undefined || value === ''
      ? []
      : [
          [`${key}Label`, label],
          [key, value],
        ];
  return [
    ['rt', Date.parse(event['@timestamp'])],
    ['externalId', event.event.id],
    ...labelled('cn1', 'sealwatch.seq', event.sealwatch.seq),
    ...labelled('flexString1', 'sealwatch.run_id', event.sealwatch.run_id),
    ['act', event.event.action],
    ['cat', event.event.category.join(',')],
    ['outcome', event.sealwatch.outcome ?? event.event.outcome],
    ['reason', event.rule?.description],
    ...ip(event.source, 'src', 'c6a2'),
    ['spt', event.source?.port],
    ...ip(event.destination, 'dst', 'c6a3'),
    ['dpt', event.destination?.port],
    ['proto', event.network?.transport?.toUpperCase()],
    ['suser', p?.user?.name],
    ['suid', p?.user?.id],
    ['sproc', commandLine(p) ?? p?.name],
    ['spid', p?.pid],
    ['dproc', p?.parent?.executable ?? p?.parent?.name],
    ['dpid', p?.ppid ?? p?.parent?.pid],
    ['filePath', event.file?.path ?? p?.executable],
    ['fname', event.file?.name ?? (event.file?.path === undefined ? p?.name : basename(event.file.path))],
    ['dvchost', event.host?.name],
    ['deviceExternalId', event.container?.id],
    ...labelled('cs1', 'container', event.container?.name),
    ...labelled('cs2', 'image', imageRef),
    ...labelled('cs3', 'pod', event.orchestrator?.resource?.name),
    ...labelled('cs4', 'namespace', event.orchestrator?.namespace),
    ...labelled('cs5', 'seal', event.sealwatch.seal?.status),
    ...labelled('cs6', 'profile', event.sealwatch.profile_id),
    ['msg', event.message],
  ];
}

/**
 * One extension field, exactly as cefExtension() + the loop over it would render it: numbers that are
 * not finite and values empty after cutting are left out. Appends to `ext` (space-separated).
 */
function field(ext: string, key: CefKey, raw: string | number | undefined): string {
  if (raw === undefined) return ext;
  const value = typeof raw === 'number' ? (Number.isFinite(raw) ? String(raw) : '') : raw;
  const cut = truncateUtf8(wellFormed(value), CEF_KEYS[key]);
  if (cut === '') return ext;
  const piece = `${key}=${escapeCefValue(cut)}`;
  return ext === '' ? piece : `${ext} ${piece}`;
}

/** A labelled pair (cs1Label + cs1 …); the label is a constant that needs no cutting or escaping. */
function labelledField(
  ext: string,
  key: 'cs1' | 'cs2' | 'cs3' | 'cs4' | 'cs5' | 'cs6' | 'cn1' | 'flexString1',
  label: string,
  value: string | number | undefined,
): string {
  if (value === undefined || value === '') return ext;
  const piece = `${key}Label=${label}`;
  return field(ext === '' ? piece : `${ext} ${piece}`, key, value);
}

function ipField(ext: string, ip: string | undefined, v4: 'src' | 'dst', v6: 'c6a2' | 'c6a3'): string {
  return ip === undefined ? ext : field(ext, isIpv6(ip) ? v6 : v4, ip);
}

/** How Array.prototype.join renders an element. */
function part(v: string | null | undefined): string {
  return String(v ?? '');
}

/** `[name, digest ?? id].filter(defined).join('@')` without the arrays. */
function imageRef(name: string | undefined, digest: string | undefined): string {
  if (name === undefined) return digest === undefined ? '' : part(digest);
  return digest === undefined ? part(name) : `${part(name)}@${part(digest)}`;
}

/** The vendor and product fields never change: rendered once. */
const CEF_PREFIX = `CEF:0|${header('sealwatch', HEADER_MAX.vendor)}|${header('sealwatch', HEADER_MAX.product)}|`;

let lastTimestamp = '';
let lastRt = NaN;
/** `rt` in milliseconds; consecutive events usually share their timestamp string. */
function rtOf(timestamp: string): number {
  if (timestamp !== lastTimestamp) {
    lastRt = Date.parse(timestamp);
    lastTimestamp = timestamp;
  }
  return lastRt;
}

/**
 * Renders the same fields, in the same order, as cefExtension() (which stays the reference the
 * round-trip tests compute their expectations from), without the intermediate arrays.
 */
export const formatCef: Formatter = (event, options) => {
  const head = `${CEF_PREFIX}${header(event.sealwatch.version ?? options.version, HEADER_MAX.version)}|${header(
    event.rule?.id ?? event.event.action,
    HEADER_MAX.signature,
  )}|${header(event.rule?.name ?? event.message, HEADER_MAX.name)}|${String(event.event.severity)}`;
  const p = event.process;
  const sw = event.sealwatch;
  const image = event.container?.image;
  const file = event.file;
  let ext = field('', 'rt', rtOf(event['@timestamp']));
  ext = field(ext, 'externalId', event.event.id);
  ext = labelledField(ext, 'cn1', 'sealwatch.seq', sw.seq);
  ext = labelledField(ext, 'flexString1', 'sealwatch.run_id', sw.run_id);
  ext = field(ext, 'act', event.event.action);
  ext = field(ext, 'cat', event.event.category.join(','));
  ext = field(ext, 'outcome', sw.outcome ?? event.event.outcome);
  ext = field(ext, 'reason', event.rule?.description);
  ext = ipField(ext, event.source?.ip, 'src', 'c6a2');
  ext = field(ext, 'spt', event.source?.port);
  ext = ipField(ext, event.destination?.ip, 'dst', 'c6a3');
  ext = field(ext, 'dpt', event.destination?.port);
  ext = field(ext, 'proto', event.network?.transport?.toUpperCase());
  ext = field(ext, 'suser', p?.user?.name);
  ext = field(ext, 'suid', p?.user?.id);
  ext = field(ext, 'sproc', commandLine(p) ?? p?.name);
  ext = field(ext, 'spid', p?.pid);
  ext = field(ext, 'dproc', p?.parent?.executable ?? p?.parent?.name);
  ext = field(ext, 'dpid', p?.ppid ?? p?.parent?.pid);
  ext = field(ext, 'filePath', file?.path ?? p?.executable);
  ext = field(ext, 'fname', file?.name ?? (file?.path === undefined ? p?.name : basename(file.path)));
  ext = field(ext, 'dvchost', event.host?.name);
  ext = field(ext, 'deviceExternalId', event.container?.id);
  ext = labelledField(ext, 'cs1', 'container', event.container?.name);
  ext = labelledField(
    ext,
    'cs2',
    'image',
    image === undefined ? undefined : imageRef(image.name, image.digest ?? image.id),
  );
  ext = labelledField(ext, 'cs3', 'pod', event.orchestrator?.resource?.name);
  ext = labelledField(ext, 'cs4', 'namespace', event.orchestrator?.namespace);
  ext = labelledField(ext, 'cs5', 'seal', sw.seal?.status);
  ext = labelledField(ext, 'cs6', 'profile', sw.profile_id);
  ext = field(ext, 'msg', event.message);
  return `${head}|${ext}`;
};
