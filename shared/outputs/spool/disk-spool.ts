import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { replaceFileAtomic, unsafeDirectoryReason } from '../../fs/index.ts';
import { crc32 } from 'node:zlib';
import { OutputError } from '../../errors/index.ts';
import { SEVERITY_LABELS, severityLabel, type SeverityLabel } from '../../severity/index.ts';

/**
 * A per-sink disk spool: append-only segment files of checksummed records, replayed in order.
 *
 * Record: magic 0xA5 · length u32 · crc32 u32 (over severity, id and payload) · severity u8 · id u48 · payload.
 * `acked` holds the id of the last delivered record (replaced atomically); on restart every record
 * with a higher id is replayed, so delivery is at-least-once. A torn or corrupted stretch costs only
 * itself: the records after it are kept, and the loss is counted (`lost`) for the sink to report.
 * The folder must be ours and not writable by others (else the spool refuses to open), and every
 * file is opened without following links. When the cap is reached the oldest records of the
 * lowest severity band go first (info, then low, medium, high; critical last).
 */
export interface SpoolRecord {
  id: number;
  severity: number;
  payload: Buffer;
}

export type DropCounts = Partial<Record<SeverityLabel, number>>;

const MAGIC = 0xa5;
const HEADER = 16;

function encode(id: number, severity: number, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + payload.length);
  buf[0] = MAGIC;
  buf.writeUInt32BE(payload.length, 1);
  buf[9] = severity;
  buf.writeUIntBE(id, 10, 6);
  payload.copy(buf, HEADER);
  buf.writeUInt32BE(crc32(payload, crc32(buf.subarray(9, HEADER))), 5);
  return buf;
}

/** A record that starts at `at`, whole and with a matching checksum; undefined otherwise. */
function recordAt(data: Buffer, at: number): SpoolRecord | undefined {
  if (data.length - at < HEADER || data[at] !== MAGIC) return undefined;
  const length = data.readUInt32BE(at + 1);
  if (at + HEADER + length > data.length) return undefined;
  const payload = data.subarray(at + HEADER, at + HEADER + length);
  if (crc32(payload, crc32(data.subarray(at + 9, at + HEADER))) !== data.readUInt32BE(at + 5)) return undefined;
  return { id: data.readUIntBE(at + 10, 6), severity: data[at + 9]!, payload: Buffer.from(payload) };
}

/**
 * Every valid record of a segment. A damaged stretch (a flipped byte, a torn write, garbage) costs only
 * itself: the scan resumes at the next offset where a whole record with a matching checksum starts.
 * `lostBytes` and `badRegions` say what was skipped.
 */
function decodeAll(data: Buffer): { records: SpoolRecord[]; lostBytes: number; badRegions: number } {
  const records: SpoolRecord[] = [];
  let lostBytes = 0;
  let badRegions = 0;
  let at = 0;
  while (at < data.length) {
    const record = recordAt(data, at);
    if (record !== undefined) {
      records.push(record);
      at += HEADER + record.payload.length;
      continue;
    }
    badRegions++;
    let next = at + 1;
    for (;;) {
      next = data.indexOf(MAGIC, next);
      if (next < 0 || recordAt(data, next) !== undefined) break;
      next++;
    }
    const end = next < 0 ? data.length : next;
    lostBytes += end - at;
    at = end;
  }
  return { records, lostBytes, badRegions };
}

/** Opens a segment for appending, never through a link. */
function openAppend(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
}

const recordBytes = (r: { payload: Buffer }): number => HEADER + r.payload.length;
const segmentName = (firstId: number): string => `seg-${String(firstId).padStart(15, '0')}.log`;

export interface DiskSpoolOptions {
  capBytes: number;
  segmentBytes?: number;
}

export class DiskSpool {
  readonly dir: string;
  private readonly capBytes: number;
  private readonly segmentBytes: number;
  private segments: string[] = [];
  private active: { name: string; fd: number; size: number } | undefined;
  private nextId = 1;
  private acked = 0;
  private ackedPersisted = 0;
  /** Highest id handed out by read(); reset to `acked` by rewind(). */
  private readId = 0;
  private buffered: Buffer[] = [];
  private bufferedRecords: SpoolRecord[] = [];
  private cache: { name: string; size: number; records: SpoolRecord[] } | undefined;
  /** Unacked records on disk or buffered: count and bytes. */
  pendingRecords = 0;
  pendingBytes = 0;
  /** Damage found when the spool was opened: stretches skipped and their bytes. */
  readonly lost = { regions: 0, bytes: 0 };

  constructor(dir: string, options: DiskSpoolOptions) {
    this.dir = dir;
    this.capBytes = options.capBytes;
    this.segmentBytes =
      options.segmentBytes ?? Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(options.capBytes / 8)));
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Only sealwatch's user may put files here; every file is also opened without following links,
      // so a parent others can write (an emptyDir volume) cannot redirect a write either.
      const unsafe = unsafeDirectoryReason(dir);
      if (unsafe !== undefined) {
        throw new OutputError(
          'SPOOL_FAILED',
          `spool ${dir}: ${unsafe}; remove it or give it to sealwatch's user, mode 0700`,
        );
      }
      const ackedPath = join(dir, 'acked');
      if (existsSync(ackedPath)) this.acked = Number(readFileSync(ackedPath, 'utf8').trim()) || 0;
      this.ackedPersisted = this.acked;
      this.readId = this.acked;
      this.segments = readdirSync(dir)
        .filter((f) => /^seg-\d{15}\.log$/.test(f))
        .sort();
      let maxId = this.acked;
      for (const name of this.segments) {
        const { records, lostBytes, badRegions } = decodeAll(readFileSync(join(dir, name)));
        this.lost.bytes += lostBytes;
        this.lost.regions += badRegions;
        for (const r of records) {
          maxId = Math.max(maxId, r.id);
          if (r.id > this.acked) {
            this.pendingRecords++;
            this.pendingBytes += recordBytes(r);
          }
        }
      }
      this.nextId = maxId + 1;
      this.removeDoneSegments();
    } catch (error) {
      if (error instanceof OutputError) throw error;
      throw new OutputError('SPOOL_FAILED', `spool ${dir}: cannot open (${String(error)})`, { cause: error });
    }
  }

  /** Buffers a record; `sync()` writes the buffer (callers batch appends within one tick). */
  append(severity: number, payload: Buffer): void {
    const record = { id: this.nextId++, severity, payload };
    this.buffered.push(encode(record.id, severity, payload));
    this.bufferedRecords.push(record);
    this.pendingRecords++;
    this.pendingBytes += recordBytes(record);
  }

  /** Writes buffered records to the active segment (page cache: they survive a SIGKILL of this process). */
  sync(options: { fsync?: boolean } = {}): void {
    if (this.buffered.length > 0) {
      const data = Buffer.concat(this.buffered);
      const firstId = this.bufferedRecords[0]!.id;
      this.buffered = [];
      this.bufferedRecords = [];
      if (this.active === undefined || this.active.size >= this.segmentBytes) this.openSegment(firstId);
      writeSync(this.active!.fd, data);
      this.active!.size += data.length;
    }
    if (options.fsync === true && this.active !== undefined) fsyncSync(this.active.fd);
  }

  /** The next unread records in order (up to `max` records or about `maxBytes`), without removing them. */
  read(max: number, maxBytes = 1024 * 1024): SpoolRecord[] {
    this.sync();
    const out: SpoolRecord[] = [];
    let bytes = 0;
    for (const name of this.segments) {
      const records = this.load(name);
      if (records.length === 0 || records[records.length - 1]!.id <= this.readId) continue;
      for (const r of records) {
        if (r.id <= this.readId) continue;
        if (out.length >= max || (out.length > 0 && bytes + r.payload.length > maxBytes)) break;
        out.push(r);
        bytes += r.payload.length;
      }
      if (out.length >= max || bytes >= maxBytes) break;
    }
    if (out.length > 0) this.readId = out[out.length - 1]!.id;
    return out;
  }

  /** Marks records up to and including `records`' last id as delivered. */
  ack(records: readonly SpoolRecord[]): void {
    if (records.length === 0) return;
    for (const r of records) {
      if (r.id > this.acked) {
        this.pendingRecords--;
        this.pendingBytes -= recordBytes(r);
      }
    }
    this.acked = Math.max(this.acked, records[records.length - 1]!.id);
    if (this.pendingRecords <= 0) {
      this.pendingRecords = 0;
      this.pendingBytes = 0;
    }
  }

  /** After a failed delivery: the next read starts again at the first unacked record. */
  rewind(): void {
    this.readId = this.acked;
  }

  /** Persists the ack position and removes fully delivered segments. */
  checkpoint(): void {
    if (this.acked !== this.ackedPersisted) {
      replaceFileAtomic(join(this.dir, 'acked'), String(this.acked), 0o600);
      this.ackedPersisted = this.acked;
    }
    this.removeDoneSegments();
  }

  /** Enforces the cap: drops the oldest unread records of the lowest severity band first. */
  enforceCap(): DropCounts {
    const dropped: DropCounts = {};
    if (this.pendingBytes <= this.capBytes) return dropped;
    this.sync();
    for (const band of SEVERITY_LABELS) {
      for (const name of [...this.segments]) {
        if (this.pendingBytes <= this.capBytes) return dropped;
        const records = this.load(name);
        const keep = records.filter(
          (r) => r.id > this.acked && !(r.id > this.readId && severityLabel(r.severity) === band),
        );
        const removed = records.filter(
          (r) => r.id > this.acked && r.id > this.readId && severityLabel(r.severity) === band,
        );
        if (removed.length === 0) continue;
        for (const r of removed) this.pendingBytes -= recordBytes(r);
        this.pendingRecords -= removed.length;
        dropped[band] = (dropped[band] ?? 0) + removed.length;
        this.rewriteSegment(name, keep);
      }
    }
    return dropped;
  }

  close(): void {
    this.sync({ fsync: true });
    this.checkpoint();
    if (this.active !== undefined) closeSync(this.active.fd);
    this.active = undefined;
  }

  private load(name: string): SpoolRecord[] {
    const path = join(this.dir, name);
    const size = this.active?.name === name ? this.active.size : statSync(path).size;
    if (this.cache?.name === name && this.cache.size === size) return this.cache.records;
    const { records } = decodeAll(readFileSync(path));
    this.cache = { name, size, records };
    return records;
  }

  private openSegment(firstId: number): void {
    if (this.active !== undefined) closeSync(this.active.fd);
    const name = segmentName(firstId);
    this.active = { name, fd: openAppend(join(this.dir, name)), size: 0 };
    this.segments.push(name);
  }

  private rewriteSegment(name: string, records: SpoolRecord[]): void {
    const path = join(this.dir, name);
    const data = Buffer.concat(records.map((r) => encode(r.id, r.severity, r.payload)));
    if (this.active?.name === name) closeSync(this.active.fd);
    replaceFileAtomic(path, data, 0o600);
    if (this.active?.name === name) this.active = { name, fd: openAppend(path), size: data.length };
    this.cache = undefined;
  }

  private removeDoneSegments(): void {
    const keep: string[] = [];
    for (const name of this.segments) {
      const records = this.load(name);
      const done = records.length === 0 || records[records.length - 1]!.id <= this.acked;
      const isActive = this.active?.name === name;
      if (done && (!isActive || (this.pendingRecords === 0 && this.buffered.length === 0))) {
        if (isActive) {
          closeSync(this.active!.fd);
          this.active = undefined;
        }
        unlinkSync(join(this.dir, name));
        if (this.cache?.name === name) this.cache = undefined;
      } else {
        keep.push(name);
      }
    }
    this.segments = keep;
  }
}
