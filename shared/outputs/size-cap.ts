import type { Event } from '../events/index.ts';
import type { OutputSpec } from './url.ts';

/**
 * Size caps: no output sends a message longer than its cap (`max-bytes=`). RFC 5425 receivers must
 * accept 2,048 octets and should accept 8,192, so syslog over TCP/TLS defaults to 8,192 and UDP to
 * 2,048 (one datagram every receiver takes); files, stdout and HTTP take larger lines.
 *
 * An event whose message is too long is shortened, longest fields first (every string longer than
 * a common level is cut to it, ending in `…`), and marked: `sealwatch.truncated` holds the
 * fields that were cut and the original size. The format stays well-formed because the event is
 * rendered again by the same formatter, never cut as bytes. Never shortened: the record's fields
 * (`sealwatch.chain`, `sealwatch.checkpoint`), ids, run_id/seq, timestamps and the action.
 */
export const DEFAULT_MAX_BYTES = { udp: 2048, stream: 8192, file: 1024 * 1024, http: 64 * 1024 } as const;

export function maxBytesOf(spec: OutputSpec): number {
  const given = spec.options['max-bytes'];
  if (given !== undefined) return given;
  switch (spec.type) {
    case 'syslog':
      return spec.transport === 'udp' ? DEFAULT_MAX_BYTES.udp : DEFAULT_MAX_BYTES.stream;
    case 'http':
      return DEFAULT_MAX_BYTES.http;
    default:
      return DEFAULT_MAX_BYTES.file;
  }
}

const PROTECTED = new Set([
  '@timestamp',
  'event.id',
  'event.kind',
  'event.action',
  'event.dataset',
  'sealwatch.version',
  'sealwatch.run_id',
  'sealwatch.severity',
  'sealwatch.mode',
  'sealwatch.outcome',
]);
const PROTECTED_PREFIXES = ['sealwatch.chain.', 'sealwatch.checkpoint.', 'sealwatch.truncated.'];
const ELLIPSIS = '…';
/** Strings this short are left alone: cutting them saves little and loses much. */
const FLOOR = 16;

interface Leaf {
  path: string;
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  bytes: number;
}

function leaves(value: unknown, path: string, out: Leaf[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (typeof v === 'string') push(out, `${path}.${i}`, value, i, v);
      else leaves(v, `${path}.${i}`, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path === '' ? k : `${path}.${k}`;
      if (typeof v === 'string') push(out, p, value as Record<string, unknown>, k, v);
      else leaves(v, p, out);
    }
  }
}

function push(out: Leaf[], path: string, holder: Leaf['holder'], key: string | number, v: string): void {
  if (PROTECTED.has(path) || PROTECTED_PREFIXES.some((p) => path.startsWith(p))) return;
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes > FLOOR) out.push({ path, holder, key, bytes });
}

/** The longest prefix of `text` within `maxBytes` of UTF-8, then `…`. */
function cut(text: string, maxBytes: number): string {
  const room = Math.max(0, maxBytes - 3);
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > room) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end) + ELLIPSIS;
}

export interface Fitted {
  message: string;
  /** The event was shortened to fit. */
  truncated: boolean;
  /** Even shortened it does not fit (only the protected fields are left): not sent. */
  tooLarge: boolean;
}

/**
 * Renders `event`; when the result is longer than `maxBytes`, renders a shortened copy (see above).
 * Each round lowers the level all long strings are cut to by what is still over, so escaping that
 * grows a value is caught by the next round.
 */
export function fitToSize(event: Event, render: (event: Event) => string, maxBytes: number): Fitted {
  const first = render(event);
  // A string of n UTF-16 units is at most 3n bytes of UTF-8: most events skip the byte count.
  const firstBytes = first.length * 3 <= maxBytes ? 0 : Buffer.byteLength(first, 'utf8');
  if (firstBytes <= maxBytes) return { message: first, truncated: false, tooLarge: false };
  const copy = structuredClone(event);
  const originalBytes = firstBytes;
  const cutFields = new Set<string>();
  let over = firstBytes - maxBytes;
  for (let round = 0; round < 12; round++) {
    const all: Leaf[] = [];
    leaves(copy, '', all);
    all.sort((a, b) => b.bytes - a.bytes);
    if (all.length === 0) break;
    // Water-filling: the level L where cutting every string above it to L frees `over` bytes (plus slack).
    const need = over + 64;
    let level = 0;
    let freed = 0;
    for (let i = 0; i < all.length; i++) {
      const next = i + 1 < all.length ? all[i + 1]!.bytes : FLOOR;
      const gain = (all[i]!.bytes - next) * (i + 1);
      if (freed + gain >= need) {
        level = all[i]!.bytes - Math.ceil((need - freed) / (i + 1));
        break;
      }
      freed += gain;
      level = FLOOR;
    }
    level = Math.max(FLOOR, level);
    for (const leaf of all) {
      if (leaf.bytes <= level) break;
      const value = (leaf.holder as Record<string | number, string>)[leaf.key]!;
      (leaf.holder as Record<string | number, string>)[leaf.key] = cut(value, level);
      cutFields.add(leaf.path.replace(/\.\d+$/, ''));
    }
    copy.sealwatch = {
      ...copy.sealwatch,
      truncated: { fields: [...cutFields].sort(), original_bytes: originalBytes },
    };
    const message = render(copy);
    const bytes = Buffer.byteLength(message, 'utf8');
    if (bytes <= maxBytes) return { message, truncated: true, tooLarge: false };
    over = bytes - maxBytes;
    if (level === FLOOR && all.every((l) => l.bytes <= FLOOR + 3)) break;
  }
  return { message: first, truncated: true, tooLarge: true };
}

/** The output's renderer with its size cap applied. */
export function cappedRenderer(spec: OutputSpec, render: (event: Event) => string): (event: Event) => Fitted {
  const maxBytes = maxBytesOf(spec);
  return (event) => fitToSize(event, render, maxBytes);
}
