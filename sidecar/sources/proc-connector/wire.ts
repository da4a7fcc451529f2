/**
 * The kernel proc connector's wire format: the netlink request that subscribes to process events, and the parser
 * of the datagrams that carry them (`struct nlmsghdr` + `struct cn_msg` + `struct proc_event`, little-endian).
 * Pure functions over buffers: used by the socket thread and by tests with hand-made datagrams.
 */
export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;
const NLMSG_DONE = 3;
const NLMSG_HDRLEN = 16;
const CN_MSG_LEN = 20;
/** where the local port goes in a request (`nlmsg_pid`), filled in once the socket is bound */
export const REQUEST_PORT_OFFSET = 12;

export type ProcEvent =
  | { what: 'fork'; timestampNs: bigint; parentPid: number; parentTgid: number; childPid: number; childTgid: number }
  | { what: 'exec'; timestampNs: bigint; pid: number; tgid: number }
  | { what: 'uid' | 'gid'; timestampNs: bigint; pid: number; tgid: number; real: number; effective: number }
  | { what: 'ptrace'; timestampNs: bigint; pid: number; tgid: number; tracerPid: number; tracerTgid: number }
  | { what: 'comm'; timestampNs: bigint; pid: number; tgid: number; comm: string }
  | { what: 'exit'; timestampNs: bigint; pid: number; tgid: number; exitCode: number; exitSignal: number }
  | { what: 'ack' | 'other'; timestampNs: bigint; code: number };

const WHAT = {
  NONE: 0x0,
  FORK: 0x1,
  EXEC: 0x2,
  UID: 0x4,
  GID: 0x40,
  PTRACE: 0x100,
  COMM: 0x200,
  EXIT: 0x80000000,
} as const;

/** The PROC_CN_MCAST_LISTEN (or IGNORE) request: nlmsghdr + cn_msg + the 4-byte op. */
export function listenMessage(localPort: number, op = PROC_CN_MCAST_LISTEN): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN + CN_MSG_LEN + 4);
  buf.writeUInt32LE(buf.length, 0); // nlmsg_len
  buf.writeUInt16LE(NLMSG_DONE, 4); // nlmsg_type
  buf.writeUInt16LE(0, 6); // nlmsg_flags
  buf.writeUInt32LE(0, 8); // nlmsg_seq
  buf.writeUInt32LE(localPort >>> 0, REQUEST_PORT_OFFSET); // nlmsg_pid
  buf.writeUInt32LE(CN_IDX_PROC, 16); // cb_id.idx
  buf.writeUInt32LE(CN_VAL_PROC, 20); // cb_id.val
  buf.writeUInt32LE(0, 24); // seq
  buf.writeUInt32LE(0, 28); // ack
  buf.writeUInt16LE(4, 32); // len
  buf.writeUInt16LE(0, 34); // flags
  buf.writeUInt32LE(op, 36);
  return buf;
}

/**
 * Parses one datagram from the connector socket: one or more netlink messages, each a cn_msg holding a
 * `struct proc_event`. Records that are too short or not from CN_IDX_PROC are skipped and counted in
 * `skipped`; this is kernel input, but a bad record must never throw.
 */
export function parseProcEvents(buf: Uint8Array): { events: ProcEvent[]; skipped: number } {
  const data = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const events: ProcEvent[] = [];
  let skipped = 0;
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= data.length) {
    const len = data.readUInt32LE(offset);
    if (len < NLMSG_HDRLEN || offset + len > data.length) {
      skipped++;
      break;
    }
    const cn = offset + NLMSG_HDRLEN;
    const payload = cn + CN_MSG_LEN;
    const end = offset + len;
    offset += (len + 3) & ~3;
    if (payload > end || data.readUInt32LE(cn) !== CN_IDX_PROC || data.readUInt32LE(cn + 4) !== CN_VAL_PROC) {
      skipped++;
      continue;
    }
    const dataLen = data.readUInt16LE(cn + 16);
    const event = parseProcEvent(data.subarray(payload, Math.min(end, payload + dataLen)));
    if (event) events.push(event);
    else skipped++;
  }
  return { events, skipped };
}

function parseProcEvent(d: Buffer): ProcEvent | undefined {
  if (d.length < 16) return undefined;
  const what = d.readUInt32LE(0);
  const timestampNs = d.readBigUInt64LE(8);
  const u = (i: number): number | undefined => (d.length >= 16 + 4 * (i + 1) ? d.readUInt32LE(16 + 4 * i) : undefined);
  const need = (n: number): number[] | undefined => {
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = u(i);
      if (v === undefined) return undefined;
      values.push(v);
    }
    return values;
  };
  switch (what) {
    case WHAT.NONE:
      return { what: 'ack', timestampNs, code: u(0) ?? 0 };
    case WHAT.FORK: {
      const v = need(4);
      return v && { what: 'fork', timestampNs, parentPid: v[0]!, parentTgid: v[1]!, childPid: v[2]!, childTgid: v[3]! };
    }
    case WHAT.EXEC: {
      const v = need(2);
      return v && { what: 'exec', timestampNs, pid: v[0]!, tgid: v[1]! };
    }
    case WHAT.UID:
    case WHAT.GID: {
      const v = need(4);
      return (
        v && {
          what: what === WHAT.UID ? 'uid' : 'gid',
          timestampNs,
          pid: v[0]!,
          tgid: v[1]!,
          real: v[2]!,
          effective: v[3]!,
        }
      );
    }
    case WHAT.PTRACE: {
      const v = need(4);
      return v && { what: 'ptrace', timestampNs, pid: v[0]!, tgid: v[1]!, tracerPid: v[2]!, tracerTgid: v[3]! };
    }
    case WHAT.COMM: {
      const v = need(2);
      if (!v || d.length < 24 + 16) return undefined;
      const raw = d.subarray(24, 40);
      const nul = raw.indexOf(0);
      return {
        what: 'comm',
        timestampNs,
        pid: v[0]!,
        tgid: v[1]!,
        comm: raw.subarray(0, nul < 0 ? 16 : nul).toString('latin1'),
      };
    }
    case WHAT.EXIT: {
      const v = need(4);
      return v && { what: 'exit', timestampNs, pid: v[0]!, tgid: v[1]!, exitCode: v[2]!, exitSignal: v[3]! };
    }
    default:
      return { what: 'other', timestampNs, code: what };
  }
}
