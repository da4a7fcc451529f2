import { chmodSync, chownSync, mkdtempSync, symlinkSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { freePort } from '../harness/net.ts';
import { readEventsFile, waitFor } from '../harness/wait.ts';
import { plainEvent } from './events.ts';
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

  it('skips only a record whose checksum does not match (a flipped byte) and keeps every other one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
    const a = new DiskSpool(dir, { capBytes: 1024 * 1024 });
    for (let i = 1; i <= 77; i++) a.append(5, payload(i));
    a.close();
    const [segment] = readdirSync(dir).filter((f) => f.startsWith('seg-'));
    const path = join(dir, segment!);
    const data = readFileSync(path);
    const recordSize = data.length / 77;
    data[recordSize * 10 + 40]! ^= 0xff; // flip a payload byte of record 11
    writeFileSync(path, data);
    const b = new DiskSpool(dir, { capBytes: 1024 * 1024 });
    expect(b.lost).toEqual({ regions: 1, bytes: recordSize });
    expect(ids(b.read(100))).toEqual(Array.from({ length: 77 }, (_, i) => i + 1).filter((i) => i !== 11));
  });

  it('skips garbage between records and a torn tail, and reports what it skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
    const a = new DiskSpool(dir, { capBytes: 1024 * 1024 });
    for (let i = 1; i <= 6; i++) a.append(5, payload(i));
    a.close();
    const [segment] = readdirSync(dir).filter((f) => f.startsWith('seg-'));
    const path = join(dir, segment!);
    const data = readFileSync(path);
    const recordSize = data.length / 6;
    const garbage = Buffer.from('\xa5\xa5garbage\xa5 not a record');
    writeFileSync(
      path,
      Buffer.concat([data.subarray(0, recordSize * 3), garbage, data.subarray(recordSize * 3), data.subarray(0, 20)]),
    );
    const b = new DiskSpool(dir, { capBytes: 1024 * 1024 });
    expect(b.lost).toEqual({ regions: 2, bytes: garbage.length + 20 });
    expect(ids(b.read(100))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses a spool folder others can write or another user owns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
    chmodSync(dir, 0o777);
    expect(() => new DiskSpool(dir, { capBytes: 1024 })).toThrow(/is writable by others \(mode 0777\)/);
    chmodSync(dir, 0o700);
    expect(() => new DiskSpool(dir, { capBytes: 1024 })).not.toThrow();
    if (process.getuid?.() === 0) {
      chownSync(dir, 1234, 1234);
      expect(() => new DiskSpool(dir, { capBytes: 1024 })).toThrow(/owned by uid 1234/);
    }
  });

  it('never writes through a link planted in its folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spool-'));
    const victim = join(mkdtempSync(join(tmpdir(), 'sw-victim-')), 'root-owned');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dir, 'acked.tmp'));
    const s = new DiskSpool(dir, { capBytes: 1024 * 1024 });
    for (let i = 1; i <= 3; i++) s.append(5, payload(i));
    s.ack(s.read(2));
    s.checkpoint();
    s.close();
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(join(dir, 'acked'), 'utf8')).toBe('2');
    // A link where the next segment will be is refused, not followed.
    const next = new DiskSpool(mkdtempSync(join(tmpdir(), 'sw-spool-')), { capBytes: 1024 * 1024 });
    symlinkSync(victim, join(next.dir, 'seg-000000000000001.log'));
    next.append(5, payload(1));
    expect(() => next.sync()).toThrow(/ELOOP/);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
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

describe('a damaged spool, as the outputs report it', () => {
  it('replays the intact records and says what was lost in an event on every output and in `dropped`', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sw-spool-root-'));
    const port = await freePort(); // nothing listens: everything stays in the spool
    const url = `syslog+tcp://127.0.0.1:${port}`;
    const first = createDispatcher([parseOutputUrl(url)], { logger: silentLogger(), spoolDir: root });
    for (let i = 0; i < 20; i++) first.dispatch(plainEvent(5, `event ${i}`));
    await first.close();
    const folder = readdirSync(root).find((f) => f.startsWith('syslog'))!;
    const segment = join(
      root,
      folder,
      readdirSync(join(root, folder)).find((f) => f.startsWith('seg-'))!,
    );
    const data = readFileSync(segment);
    data[Math.floor(data.length / 2)]! ^= 0xff;
    writeFileSync(segment, data);
    const file = join(root, 'events.jsonl');
    const second = createDispatcher([parseOutputUrl(url), parseOutputUrl(`file://${file}`)], {
      logger: silentLogger(),
      spoolDir: root,
    });
    const notice = await waitFor('the damage notice', () =>
      readEventsFile(file).find((e) => e.event.action === 'sealwatch.spool.damaged'),
    );
    expect(notice.message).toMatch(/1 corrupted stretch \(\d+ bytes, at least 1 event\) skipped/);
    expect(second.stats()[0]!.dropped).toBe(1);
    expect(second.stats()[0]!.spoolBytes).toBeGreaterThan(0);
    await second.close();
  });
});
