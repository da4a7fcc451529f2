/**
 * A name read as bytes (a file name need not be UTF-8) as text that says exactly what the bytes were: valid UTF-8
 * as itself, each byte that is not part of a valid sequence as `\xNN`, and a backslash as `\\` (so `\xff` in a
 * name and the byte 0xff read differently). Decoding with U+FFFD instead would merge different names into one, and
 * a path built from such a name would not reach the file again.
 */
const decoder = new TextDecoder('utf-8');

/** Length of the valid UTF-8 sequence at `i` (1–4), or 0 when the byte there does not start one. */
function sequenceLength(raw: Uint8Array, i: number): number {
  const b = raw[i]!;
  if (b < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => {
    const c = raw[i + j];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b >= 0xe1 && b <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

export function escapeBytes(raw: Uint8Array): string {
  let out = '';
  let start = 0;
  let i = 0;
  while (i < raw.length) {
    const n = sequenceLength(raw, i);
    if (n !== 0 && raw[i] !== 0x5c) {
      i += n;
      continue;
    }
    out += decoder.decode(raw.subarray(start, i));
    out += raw[i] === 0x5c ? '\\\\' : `\\x${raw[i]!.toString(16).padStart(2, '0')}`;
    i++;
    start = i;
  }
  return out + decoder.decode(raw.subarray(start));
}
