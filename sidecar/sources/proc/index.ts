export { parseStat } from './parse-stat.ts';
export type { ProcStat } from './parse-stat.ts';
export { parseStatus } from './parse-status.ts';
export type { ProcStatus } from './parse-status.ts';
export { parseCmdline } from './parse-cmdline.ts';
export {
  parseNetTable,
  decodeHexAddress,
  formatAddressBytes,
  TCP_LISTEN,
  TCP_ESTABLISHED,
  UDP_UNCONNECTED,
} from './parse-net.ts';
export type { NetSocket, NetProtocol, NetFamily } from './parse-net.ts';
export { socketInode, parseFdinfoFlags, isWriteFlags, containerIdFromCgroup, parsePasswd } from './parse-misc.ts';
export { createProcFs, CLOCK_TICKS } from './proc-fs.ts';
export type { ProcFs } from './proc-fs.ts';
export { decorateProcFs } from './decorate.ts';
