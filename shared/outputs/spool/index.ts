export { DiskSpool } from './disk-spool.ts';
export type { SpoolRecord, DropCounts, DiskSpoolOptions } from './disk-spool.ts';
