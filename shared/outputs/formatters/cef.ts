import type { Event } from '../../events/index.ts';
import type { Formatter } from '../types.ts';
import { basename, commandLine, hostnameField, truncateUtf8, wellFormed } from './text.ts';

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
  // Vendor extension keys (the CEF rules allow them): the event record's chain and checkpoints.
  sealwatchChainHash: 71,
  sealwatchChainPreviousRun: 1023,
  sealwatchCheckpoint: 8192,
  sealwatchTruncated: 1023,
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

type CefValue = string | number | undefined;
type Labelled = 'cs1' | 'cs2' | 'cs3' | 'cs4' | 'cs5' | 'cs6' | 'cn1' | 'flexString1';

/**
 * The one table of CEF extension fields, in output order: a key (with its label for the labelled
 * custom fields) and how its value is read from an event. formatCef renders it; cefExtension lists it.
 */
interface CefField {
  key: CefKey;
  label?: string;
  value: (event: Event) => CefValue;
}

const v4 = (ip: string | undefined): string | undefined => (ip === undefined || isIpv6(ip) ? undefined : ip);
const v6 = (ip: string | undefined): string | undefined => (ip !== undefined && isIpv6(ip) ? ip : undefined);

/** `[name, digest ?? id].filter(defined).join('@')`. */
function imageRef(event: Event): string | undefined {
  const image = event.container?.image;
  if (image === undefined) return undefined;
  const digest = image.digest ?? image.id;
  if (image.name === undefined) return digest ?? '';
  return digest === undefined ? image.name : `${image.name}@${digest}`;
}

export const CEF_FIELDS: readonly CefField[] = [
  { key: 'rt', value: (e) => rtOf(e['@timestamp']) },
  { key: 'externalId', value: (e) => e.event.id },
  { key: 'cn1', label: 'sealwatch.seq', value: (e) => e.sealwatch.seq },
  { key: 'flexString1', label: 'sealwatch.run_id', value: (e) => e.sealwatch.run_id },
  { key: 'sealwatchChainHash', value: (e) => e.sealwatch.chain?.hash },
  { key: 'sealwatchChainPreviousRun', value: (e) => previousRun(e) },
  { key: 'act', value: (e) => e.event.action },
  { key: 'cat', value: (e) => e.event.category.join(',') },
  { key: 'outcome', value: (e) => e.sealwatch.outcome ?? e.event.outcome },
  { key: 'reason', value: (e) => e.rule?.description },
  { key: 'src', value: (e) => v4(e.source?.ip) },
  { key: 'c6a2', value: (e) => v6(e.source?.ip) },
  { key: 'spt', value: (e) => e.source?.port },
  { key: 'dst', value: (e) => v4(e.destination?.ip) },
  { key: 'c6a3', value: (e) => v6(e.destination?.ip) },
  { key: 'dpt', value: (e) => e.destination?.port },
  { key: 'proto', value: (e) => e.network?.transport?.toUpperCase() },
  { key: 'suser', value: (e) => e.process?.user?.name },
  { key: 'suid', value: (e) => e.process?.user?.id },
  { key: 'sproc', value: (e) => commandLine(e.process) ?? e.process?.name },
  { key: 'spid', value: (e) => e.process?.pid },
  { key: 'dproc', value: (e) => e.process?.parent?.executable ?? e.process?.parent?.name },
  { key: 'dpid', value: (e) => e.process?.ppid ?? e.process?.parent?.pid },
  { key: 'filePath', value: (e) => e.file?.path ?? e.process?.executable },
  {
    key: 'fname',
    value: (e) => e.file?.name ?? (e.file?.path === undefined ? e.process?.name : basename(e.file.path)),
  },
  { key: 'dvchost', value: (e) => (e.host?.name === undefined ? undefined : hostnameField(e.host.name)) },
  { key: 'deviceExternalId', value: (e) => e.container?.id },
  { key: 'cs1', label: 'container', value: (e) => e.container?.name },
  { key: 'cs2', label: 'image', value: imageRef },
  { key: 'cs3', label: 'pod', value: (e) => e.orchestrator?.resource?.name },
  { key: 'cs4', label: 'namespace', value: (e) => e.orchestrator?.namespace },
  { key: 'cs5', label: 'seal', value: (e) => e.sealwatch.seal?.status },
  { key: 'cs6', label: 'profile', value: (e) => e.sealwatch.profile_id },
  { key: 'sealwatchCheckpoint', value: (e) => checkpointText(e) },
  { key: 'sealwatchTruncated', value: (e) => e.sealwatch.truncated?.fields.join(',') },
  { key: 'msg', value: (e) => e.message },
];

/** `run_id seq hash` of the run before this one, on a run's first chained event. */
function previousRun(event: Event): string | undefined {
  const p = event.sealwatch.chain?.previous_run;
  return p === undefined ? undefined : `${p.run_id} ${p.seq} ${p.hash}`;
}

/** A checkpoint event's signed head, as compact JSON (its bundle is verified from this text). */
function checkpointText(event: Event): string | undefined {
  const c = event.sealwatch.checkpoint;
  return c === undefined ? undefined : JSON.stringify(c);
}

/** The extension fields of an event, in output order, before truncation and escaping (labels included). */
export function cefExtension(event: Event): Array<[CefKey, CefValue]> {
  const out: Array<[CefKey, CefValue]> = [];
  for (const f of CEF_FIELDS) {
    const value = f.value(event);
    if (f.label !== undefined) {
      if (value === undefined || value === '') continue;
      out.push([`${f.key as Labelled}Label`, f.label]);
    }
    out.push([f.key, value]);
  }
  return out;
}

/**
 * One extension field: numbers that are not finite and values empty after cutting are left out.
 * Appends to `ext` (space-separated).
 */
function field(ext: string, key: CefKey, raw: CefValue): string {
  if (raw === undefined) return ext;
  const value = typeof raw === 'number' ? (Number.isFinite(raw) ? String(raw) : '') : raw;
  const cut = truncateUtf8(wellFormed(value), CEF_KEYS[key]);
  if (cut === '') return ext;
  const piece = `${key}=${escapeCefValue(cut)}`;
  return ext === '' ? piece : `${ext} ${piece}`;
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

/** CEF:0 with the extension from CEF_FIELDS (labels before their labelled values). */
export const formatCef: Formatter = (event, options) => {
  const head = `${CEF_PREFIX}${header(event.sealwatch.version ?? options.version, HEADER_MAX.version)}|${header(
    event.rule?.id ?? event.event.action,
    HEADER_MAX.signature,
  )}|${header(event.rule?.name ?? event.message, HEADER_MAX.name)}|${String(event.event.severity)}`;
  let ext = '';
  for (const f of CEF_FIELDS) {
    const value = f.value(event);
    if (f.label !== undefined) {
      if (value === undefined || value === '') continue;
      const piece = `${f.key}Label=${f.label}`;
      ext = ext === '' ? piece : `${ext} ${piece}`;
    }
    ext = field(ext, f.key, value);
  }
  return `${head}|${ext}`;
};
