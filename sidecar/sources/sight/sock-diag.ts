import { formatAddressBytes, type NetFamily, type NetProtocol, type NetSocket } from '../proc/index.ts';

/**
 * The kernel's socket destroy notifications (NETLINK_SOCK_DIAG, multicast groups SKNLGRP_INET{,6}_{TCP,UDP}_DESTROY):
 * one `SOCK_DIAG_BY_FAMILY` message per socket of the network namespace when it is freed, an `inet_diag_msg`
 * (uapi/linux/inet_diag.h) and its attributes. What the kernel sends here (measured on 6.x, see docs/watch.md):
 * - the 4-tuple, the state (TCP: 7 CLOSE; UDP: 1 for a connect()ed socket, 7 otherwise), the socket's uid;
 * - `idiag_inode` is always 0: the socket was orphaned when it was closed, so the message names no process;
 * - `INET_DIAG_PROTOCOL` (6 or 17), and for TCP `INET_DIAG_INFO`, a `struct tcp_info` whose `tcpi_bytes_sent` and
 *   `tcpi_bytes_received` are the bytes the connection carried (received counts the peer's FIN as one);
 * - a refused or failed TCP connect has lost its source address and destination port; a UDP socket that only used
 *   sendto() has no destination: neither is a connection.
 * Everything here is bounded by the message and attribute lengths; a message that does not fit is skipped and counted.
 */
export const NETLINK_SOCK_DIAG = 4;
/** SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET_UDP_DESTROY, SKNLGRP_INET6_TCP_DESTROY, SKNLGRP_INET6_UDP_DESTROY */
export const DESTROY_GROUPS = [1, 2, 3, 4] as const;

const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSG_OVERRUN = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const INET_DIAG_MSG_LEN = 72;
const INET_DIAG_INFO = 2;
const INET_DIAG_PROTOCOL = 10;
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** offsets in struct tcp_info (uapi/linux/tcp.h) */
const TCPI_BYTES_RECEIVED = 128;
const TCPI_BYTES_SENT = 200;

export interface ClosedSocket {
  /** inode 0 (the kernel no longer knows it); `state` as the kernel left it */
  socket: NetSocket;
  /** TCP only: what tcp_info counted (received includes the peer's FIN) */
  bytes?: { sent?: number; received?: number };
}

/**
 * `groups` is the multicast mask the message came on (the protocol when the message has no INET_DIAG_PROTOCOL:
 * groups 1 and 3 are TCP, 2 and 4 UDP).
 */
export function parseDestroyMessages(buf: Buffer, groups = 0): { sockets: ClosedSocket[]; skipped: number } {
  const sockets: ClosedSocket[] = [];
  let skipped = 0;
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(offset);
    const type = buf.readUInt16LE(offset + 4);
    if (len < NLMSG_HDRLEN || offset + len > buf.length) {
      skipped++;
      break;
    }
    if (type === SOCK_DIAG_BY_FAMILY) {
      const parsed = parseInetDiag(buf.subarray(offset + NLMSG_HDRLEN, offset + len), groups);
      if (parsed) sockets.push(parsed);
      else skipped++;
    } else if (type === NLMSG_ERROR || type === NLMSG_OVERRUN) skipped++;
    else if (type !== NLMSG_DONE) skipped++;
    offset += (len + 3) & ~3;
  }
  return { sockets, skipped };
}

function parseInetDiag(msg: Buffer, groups: number): ClosedSocket | undefined {
  if (msg.length < INET_DIAG_MSG_LEN) return undefined;
  const familyCode = msg[0];
  if (familyCode !== AF_INET && familyCode !== AF_INET6) return undefined;
  const state = msg[1]!;
  const localPort = msg.readUInt16BE(4);
  const remotePort = msg.readUInt16BE(6);
  const width = familyCode === AF_INET ? 4 : 16;
  const localIp = formatAddressBytes(msg.subarray(8, 8 + width));
  const remoteIp = formatAddressBytes(msg.subarray(24, 24 + width));
  const uid = msg.readUInt32LE(64);
  const inode = msg.readUInt32LE(68);
  let protocol: NetProtocol | undefined = groups & 0b0101 ? 'tcp' : groups & 0b1010 ? 'udp' : undefined;
  let bytes: ClosedSocket['bytes'];
  let info: Buffer | undefined;
  for (let a = INET_DIAG_MSG_LEN; a + 4 <= msg.length;) {
    const alen = msg.readUInt16LE(a);
    const atype = msg.readUInt16LE(a + 2) & 0x3fff;
    if (alen < 4 || a + alen > msg.length) return undefined;
    const data = msg.subarray(a + 4, a + alen);
    if (atype === INET_DIAG_PROTOCOL && data.length >= 1)
      protocol = data[0] === IPPROTO_TCP ? 'tcp' : data[0] === IPPROTO_UDP ? 'udp' : undefined;
    else if (atype === INET_DIAG_INFO) info = data;
    a += (alen + 3) & ~3;
  }
  if (protocol === undefined) return undefined;
  if (protocol === 'tcp' && info) {
    const read = (at: number): number | undefined =>
      info.length >= at + 8 ? Number(info.readBigUInt64LE(at)) : undefined;
    const received = read(TCPI_BYTES_RECEIVED);
    const sent = read(TCPI_BYTES_SENT);
    if (received !== undefined || sent !== undefined) bytes = { sent, received };
  }
  // the family as the tables report it: an IPv4-mapped peer of an IPv6 socket is IPv4
  const family: NetFamily = localIp.includes(':') || remoteIp.includes(':') ? 'ipv6' : 'ipv4';
  return {
    socket: { protocol, family, localIp, localPort, remoteIp, remotePort, state, uid, inode },
    ...(bytes ? { bytes } : {}),
  };
}
