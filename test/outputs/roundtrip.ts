import type { Event } from '../../shared/events/index.ts';
import { CEF_KEYS } from '../../shared/outputs/index.ts';
import { cefExtension } from '../../shared/outputs/formatters/cef.ts';
import { SD_VALUE_MAX_BYTES, sdParams } from '../../shared/outputs/formatters/rfc5424.ts';
import { truncateUtf8, wellFormed } from '../../shared/outputs/formatters/text.ts';

/**
 * What a receiver must parse back out of each rendering, computed from the event independently of
 * the escaping code: the raw value, with NUL/lone surrogates as U+FFFD, cut to the key's maximum.
 */
export function expectedCefExtensions(event: Event): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, raw] of cefExtension(event)) {
    if (raw === undefined) continue;
    const value = truncateUtf8(wellFormed(String(raw)), CEF_KEYS[key]);
    if (value !== '') out[key] = value;
  }
  return out;
}

export function expectedSd(event: Event): Record<string, string> {
  return Object.fromEntries(sdParams(event).map(([k, v]) => [k, truncateUtf8(wellFormed(v), SD_VALUE_MAX_BYTES)]));
}

/** The event as a JSON receiver must see it (NUL and lone surrogates as U+FFFD). */
export function expectedJson(event: Event): unknown {
  return JSON.parse(JSON.stringify(event, (_k, v: unknown) => (typeof v === 'string' ? wellFormed(v) : v)));
}
