import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskSpool } from '../../shared/outputs/spool/index.ts';

const payload = (i: number, size = 100): Buffer => Buffer.from(`${i}:`.padEnd(size, 'x'));
const ids = (records: Array<{ payload: Buffer }>): number[] =>
  records.map((r) => Number(r.payload.toString().split(':')[0]));

describe('disk spool', () => {
  it('replays unacked records in order after a reopen, and never the acked ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
    const a = new DiskSpool(dir, { capBytes: 10 * 1024 * 1024, segmentBytes: 4096 });
    for (let i = 1; i <= 200; i++) {
      a.append(5, payload(i));
      if (i % 10 === 0) a.sync();
    }
    a.ack(a.read(50));
    a.read(30); // read but not acked: must come back
    a.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('seg-')).length).toBeGreaterThan(1);
    const b = new DiskSpool(dir, { capBytes: 10 * 1024 * 1024, segmentBytes: 4096 });
    expect(b.pendingRecords).toBe(150);
    const replay = [];
    for (let batch = b.read(40); batch.length > 0; batch = b.read(40)) replay.push(...batch);
    expect(ids(replay)).toEqual(Array.from({ length: 150 }, (_, i) => i + 51));
    b.ack(replay);
    b.checkpoint();
    expect(b.pendingBytes).toBe(0);
    b.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('seg-'))).toEqual([]);
  });

  it('stops at a record whose checksum does not match (a torn or flipped write) and keeps the ones before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
    const a = new DiskSpool(dir, { capBytes: 1024 * 1024 });
    for (let i = 1; i <= 10; i++) a.append(5, payload(i));
    a.close();
    const [segment] = readdirSync(dir).filter((f) => f.startsWith('seg-'));
    const path = join(dir, segment!);
    const data = readFileSync(path);
    const recordSize = data.length / 10;
    data[recordSize * 6 + 40]! ^= 0xff; // flip a payload byte of the 7th record
    writeFileSync(path, data);
    const b = new DiskSpool(dir, { capBytes: 1024 * 1024 });
    expect(b.corrupted).toBe(1);
    expect(ids(b.read(100))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('at the cap drops the oldest lowest-severity records first and critical ones last', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
    const spool = new DiskSpool(dir, { capBytes: 80 * 1024, segmentBytes: 8 * 1024 });
    // 100 records of each severity 0 (info), 3 (low), 5 (medium), 10 (critical), interleaved: ~120 KB.
    const severities = [0, 3, 5, 10];
    for (let i = 0; i < 400; i++) {
      spool.append(severities[i % 4]!, payload(i, 300));
      if (i % 8 === 7) spool.sync();
    }
    const dropped = spool.enforceCap();
    expect(dropped.critical).toBeUndefined();
    expect(dropped.info).toBe(100);
    expect((dropped.low ?? 0) > 0).toBe(true);
    expect(dropped.medium).toBeUndefined();
    expect(spool.pendingBytes).toBeLessThanOrEqual(80 * 1024);
    const left = [];
    for (let batch = spool.read(500); batch.length > 0; batch = spool.read(500)) left.push(...batch);
    expect(left.filter((r) => r.severity === 10)).toHaveLength(100);
    expect(left.filter((r) => r.severity === 5)).toHaveLength(100);
    expect(left.filter((r) => r.severity === 0)).toHaveLength(0);
    // Survivors keep their order; the low ones that survived are the newest.
    expect(ids(left)).toEqual([...ids(left)].sort((x, y) => x - y));
    const lowLeft = ids(left.filter((r) => r.severity === 3));
    expect(lowLeft[lowLeft.length - 1]).toBe(397);
    spool.close();
  });
});
