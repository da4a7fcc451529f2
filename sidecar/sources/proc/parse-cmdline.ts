/**
 * `/proc/<pid>/cmdline`: argv as NUL-separated bytes (with a trailing NUL). Bytes are decoded
 * lossily as UTF-8 (invalid sequences become U+FFFD) so a hostile argv can never break parsing.
 * A process that rewrote its argv area may have no NULs at all: then the whole text is argv[0].
 */
const decoder = new TextDecoder('utf-8', { fatal: false });

export function parseCmdline(bytes: Uint8Array): string[] {
  if (bytes.length === 0) return [];
  const end = bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
  const args: string[] = [];
  let start = 0;
  for (let i = 0; i <= end; i++) {
    if (i === end || bytes[i] === 0) {
      args.push(decoder.decode(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  return args;
}
