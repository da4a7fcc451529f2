import { isIP } from 'node:net';

/**
 * `/proc/<pid>/net/{tcp,tcp6,udp,udp6}`: one socket per line, addresses in hex as the kernel
 * prints 32-bit words in host byte order (little-endian here). IPv4-mapped IPv6 addresses
 * (`::ffff:a.b.c.d`) are reported as plain IPv4, so rules about 169.254.169.254 see them.
 * Bad lines are skipped and counted.
 */
export type NetProtocol = 'tcp' | 'udp';
export type NetFamily = 'ipv4' | 'ipv6';

export interface NetSocket {
  protocol: NetProtocol;
  family: NetFamily;
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  /** kernel state number (TCP: 1 ESTABLISHED, 10 LISTEN; UDP: 7 unconnected, 1 connected) */
  state: number;
  uid: number;
  inode: number;
}

export const TCP_LISTEN = 0x0a;
export const TCP_ESTABLISHED = 0x01;
export const UDP_UNCONNECTED = 0x07;

export function parseNetTable(
  text: string,
  protocol: NetProtocol,
  family: NetFamily,
  /** sockets decoded before, by `inode:state`: reused without decoding the line again */
  known?: ReadonlyMap<string, NetSocket>,
): { sockets: NetSocket[]; skipped: number } {
  const sockets: NetSocket[] = [];
  let skipped = 0;
  // line by line without splitting the whole table: most lines of a busy table are known
  let next = text.indexOf('\n') + 1;
  while (next > 0 && next < text.length) {
    const end = text.indexOf('\n', next);
    const start = next;
    next = end === -1 ? text.length : end + 1;
    if (known) {
      const hit = known.get(stateKey(text, start, end === -1 ? text.length : end));
      if (hit && hit.protocol === protocol) {
        sockets.push(hit);
        continue;
      }
    }
    const line = text.slice(start, end === -1 ? text.length : end).trim();
    if (!line) continue;
    const socket = parseNetLine(line, protocol, family);
    if (socket) sockets.push(socket);
    else skipped++;
  }
  return { sockets, skipped };
}

/** `inode:st` (the 10th and 4th fields) of the line text[from, to), as the socket source keys decoded sockets. */
function stateKey(text: string, from: number, to: number): string {
  let field = 0;
  let state = '';
  let i = from;
  while (i < to) {
    while (i < to && isBlank(text.charCodeAt(i))) i++;
    const start = i;
    while (i < to && !isBlank(text.charCodeAt(i))) i++;
    if (start === i) break;
    if (field === 3) state = text.slice(start, i);
    else if (field === 9) return `${text.slice(start, i)}:${state}`;
    field++;
  }
  return '';
}

/** the characters `\s` matches in a table line: space, tab, CR (and the rest of ASCII whitespace) */
function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function parseNetLine(line: string, protocol: NetProtocol, family: NetFamily): NetSocket | undefined {
  const f = line.split(/\s+/);
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
  if (f.length < 10) return undefined;
  const local = parseEndpoint(f[1], family);
  const remote = parseEndpoint(f[2], family);
  const state = f[3] !== undefined && /^[0-9A-Fa-f]{2}$/.test(f[3]) ? parseInt(f[3], 16) : undefined;
  const uid = f[7] !== undefined && /^\d+$/.test(f[7]) ? Number(f[7]) : undefined;
  const inode = f[9] !== undefined && /^\d+$/.test(f[9]) ? Number(f[9]) : undefined;
  if (!local || !remote || state === undefined || uid === undefined || inode === undefined) return undefined;
  const reported: NetFamily = local.ip.includes(':') || remote.ip.includes(':') ? 'ipv6' : 'ipv4';
  return {
    protocol,
    family: reported,
    localIp: local.ip,
    localPort: local.port,
    remoteIp: remote.ip,
    remotePort: remote.port,
    state,
    uid,
    inode,
  };
}

function parseEndpoint(text: string | undefined, family: NetFamily): { ip: string; port: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^([0-9A-Fa-f]+):([0-9A-Fa-f]{4})$/.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  const ip = decodeHexAddress(m[1], family);
  return ip === undefined ? undefined : { ip, port: parseInt(m[2], 16) };
}

/** Decodes the kernel's hex address (host-endian 32-bit words) to text; mapped IPv4 comes out as IPv4. */
export function decodeHexAddress(hex: string, family: NetFamily): string | undefined {
  if (family === 'ipv4') {
    if (hex.length !== 8) return undefined;
    return wordBytes(hex).join('.');
  }
  if (hex.length !== 32) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(hex.slice(w * 8, w * 8 + 8)));
  return formatAddressBytes(bytes);
}

/**
 * An address in network byte order (4 or 16 bytes) as text; IPv4-mapped IPv6 comes out as IPv4. The one way both
 * the socket tables and the kernel's socket diagnostics messages (sources/sight/sock-diag.ts) write an address.
 */
export function formatAddressBytes(bytes: ArrayLike<number>): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const isMapped =
    Array.from(bytes)
      .slice(0, 10)
      .every((b) => b === 0) &&
    bytes[10] === 0xff &&
    bytes[11] === 0xff;
  if (isMapped) return Array.from(bytes).slice(12, 16).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return compressIpv6(groups);
}

/** One host-endian (little-endian) 32-bit word as 4 bytes in network order. */
function wordBytes(word: string): number[] {
  const out: number[] = [];
  for (let i = 6; i >= 0; i -= 2) out.push(parseInt(word.slice(i, i + 2), 16));
  return out;
}

function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text =
    bestStart < 0
      ? groups.join(':')
      : `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
  return isIP(text) === 6 ? text : groups.join(':');
}
