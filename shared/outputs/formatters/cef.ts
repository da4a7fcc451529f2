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

export function escapeCefHeader(value: string): string {
  if (!/[\\|\r\n]/.test(value)) return value;
  return value.replace(/[\\|]/g, (c) => `\\${c}`).replace(/\r\n|[\r\n]/g, ' ');
}

export function escapeCefValue(value: string): string {
  if (!/[\\=\r\n]/.test(value)) return value;
  return value.replace(/[\\=\r\n]/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : `\\${c}`));
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

export const formatCef: Formatter = (event, options) => {
  const head = [
    'CEF:0',
    header('sealwatch', HEADER_MAX.vendor),
    header('sealwatch', HEADER_MAX.product),
    header(event.sealwatch.version ?? options.version, HEADER_MAX.version),
    header(event.rule?.id ?? event.event.action, HEADER_MAX.signature),
    header(event.rule?.name ?? event.message, HEADER_MAX.name),
    String(event.event.severity),
  ].join('|');
  const ext: string[] = [];
  for (const [key, raw] of cefExtension(event)) {
    if (raw === undefined) continue;
    const value = typeof raw === 'number' ? (Number.isFinite(raw) ? String(raw) : '') : raw;
    const cut = truncateUtf8(wellFormed(value), CEF_KEYS[key]);
    if (cut === '') continue;
    ext.push(`${key}=${escapeCefValue(cut)}`);
  }
  return `${head}|${ext.join(' ')}`;
};
