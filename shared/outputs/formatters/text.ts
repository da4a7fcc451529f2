import { isIPv6 } from 'node:net';
/** Small string tools the formatters share; all pure. */

// eslint-disable-next-line no-control-regex -- NUL is exactly what this replaces
const UNSENDABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces what cannot travel as text with U+FFFD: lone surrogates (their UTF-8 would be invalid)
 * and NUL (receivers are C programs: rsyslog turns it into `#000`, JSON parsers cut the string there).
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const MAYBE_UNSENDABLE = /[\u0000\uD800-\uDFFF]/;

export function wellFormed(text: string): string {
  // Fast path: most values have neither NUL nor surrogates (emoji pairs go the slow, exact way).
  return MAYBE_UNSENDABLE.test(text) ? text.replace(UNSENDABLE, '\uFFFD') : text;
}

/** JSON.stringify writes NUL and lone surrogates as \u escapes; turn those escapes into \ufffd too. */
export function wellFormedJson(json: string): string {
  return json.includes('\\u') ? json.replace(/(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g, '$1\\ufffd') : json;
}

/** The longest prefix of `text` whose UTF-8 encoding fits `maxBytes`, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * Cuts an already-escaped message to `maxBytes` of UTF-8 without splitting a character or leaving a
 * dangling escape (an odd run of trailing backslashes). Returns the bytes to send.
 */
export function truncateEscapedUtf8(message: Buffer, maxBytes: number): Buffer {
  if (message.length <= maxBytes) return message;
  let end = maxBytes;
  // Back up to the start of a UTF-8 character (continuation bytes are 10xxxxxx).
  while (end > 0 && (message[end]! & 0xc0) === 0x80) end--;
  let slashes = 0;
  while (end - slashes - 1 >= 0 && message[end - slashes - 1] === 0x5c) slashes++;
  if (slashes % 2 === 1) end--;
  return message.subarray(0, end);
}

/** Printable US-ASCII only (33–126), as RFC 5424 header fields need; others become `_`; empty becomes `-`. */
export function printableAscii(text: string, maxLength: number): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return clean === '' ? '-' : clean;
}

/**
 * A host name reduced to what every syslog receiver and CEF parser accepts in HOSTNAME / dvchost:
 * letters, digits, `.`, `-` and `_` (RFC 1123 names and IPv4 addresses pass unchanged), plus `:` in
 * an IPv6 address. Anything else becomes `-`, so a host name can neither break a header (`[`, space)
 * nor pose as a payload (`CEF:0|…`). Empty becomes `-` (RFC 5424 NILVALUE).
 */
export function hostnameField(name: string, maxLength = 255): string {
  const ipv6 = /^[0-9A-Fa-f:.]+$/.test(name) && name.includes(':') && isIPv6(name);
  const clean = name.replace(ipv6 ? /[^0-9A-Fa-f:.]/g : /[^A-Za-z0-9._-]/g, '-').slice(0, maxLength);
  return clean === '' ? '-' : clean;
}

export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** The command line of an event's process: command_line, else args joined with spaces. */
export function commandLine(process: { command_line?: string; args?: string[] } | undefined): string | undefined {
  if (process === undefined) return undefined;
  return process.command_line ?? process.args?.join(' ');
}
