import type { Event } from '../../events/index.ts';
import { priority } from './rfc5424.ts';
import { hostnameField, printableAscii, truncateUtf8, wellFormed } from './text.ts';

/**
 * BSD syslog (RFC 3164) for old receivers: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`, the whole
 * packet at most 1024 bytes, TAG at most 32 characters, MSG without CR/LF.
 */
export const RFC3164_MAX_BYTES = 1024;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function rfc3164Timestamp(iso: string): string {
  const t = new Date(Date.parse(iso));
  const d = Number.isNaN(t.getTime()) ? new Date(0) : t;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function formatRfc3164(
  event: Event,
  message: string,
  header: { hostname: string; facility?: number; tag?: string },
): { line: string; truncated: boolean } {
  const tag = printableAscii(header.tag ?? 'sealwatch', 32).replace(/[:[\]]/g, '_');
  const hostname = hostnameField(header.hostname);
  const head = `<${priority(event.event.severity, header.facility)}>${rfc3164Timestamp(event['@timestamp'])} ${hostname} ${tag}: `;
  const body = wellFormed(message).replace(/\r\n|[\r\n]/g, ' ');
  const room = RFC3164_MAX_BYTES - Buffer.byteLength(head);
  const cut = truncateUtf8(body, Math.max(0, room));
  return { line: head + cut, truncated: cut.length < body.length };
}
