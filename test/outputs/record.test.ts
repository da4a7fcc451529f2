import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogVerifier, verifyLogFiles, type LogVerifyResult, type ProblemKind } from '../../audit/index.ts';
import { recordFromCanonicalLine, recordFromJson } from '../../audit/verify-log/index.ts';
import { createEvent, type Event } from '../../shared/events/index.ts';
import { silentLogger } from '../../shared/logging/index.ts';
import { createDispatcher, parseOutputUrl } from '../../shared/outputs/index.ts';
import { recordHash } from '../../shared/record/index.ts';
import { parseSigningKey, trustedKeySet, type SigningKey } from '../../shared/signing/index.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { describeRsyslog, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { waitFor } from '../harness/wait.ts';
import { hostileEvent, HOSTILE } from './events.ts';

/**
 * The event record (hash chain + signed checkpoints) end to end: written by the real dispatcher, read
 * back by `audit verify-log`, tampered with in every way the matrix lists, and checked by openssl.
 */
function newKey(): { key: SigningKey; pubPem: string } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    key: parseSigningKey(pem, 'test key'),
    pubPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function event(i: number): Event {
  const hostile = Object.values(HOSTILE)[i % Object.keys(HOSTILE).length]!;
  return i % 3 === 0
    ? hostileEvent(hostile.slice(0, 300), i % 11)
    : createEvent({
        event: { kind: 'event', category: ['process'], type: ['start'], action: 'process-started', severity: i % 11 },
        message: `event ${i}`,
        process: { pid: 100 + i, name: 'sh', args: ['sh', '-c', `echo ${i}`] },
      });
}

/** Writes `count` events through a file output with a record key; returns the log's lines. */
async function writeLog(
  dir: string,
  key: SigningKey,
  count: number,
  options: { every?: number; format?: string; spoolDir?: string; runId?: string; file?: string } = {},
): Promise<{ file: string; lines: string[] }> {
  const file = options.file ?? join(dir, `events-${Math.random().toString(16).slice(2)}.jsonl`);
  const d = createDispatcher([parseOutputUrl(`file://${file}?format=${options.format ?? 'json'}`)], {
    logger: silentLogger(),
    runId: options.runId,
    spoolDir: options.spoolDir,
    record: { key, every: options.every ?? 5, seconds: 3600 },
  });
  for (let i = 0; i < count; i++) d.dispatch(event(i));
  await d.close();
  return {
    file,
    lines: readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== ''),
  };
}

function verifyLines(lines: readonly string[], pubPem: string, file = 'log.jsonl'): LogVerifyResult {
  const verifier = createLogVerifier({ keys: trustedKeySet([pubPem]) });
  lines.forEach((text, i) => verifier.addLine(text, { file, line: i + 1 }));
  return verifier.finish();
}

type Json = Event & Record<string, unknown>;
const parse = (line: string): Json => JSON.parse(line) as Json;
const edit = (lines: string[], at: number, change: (e: Json) => void): string[] => {
  const copy = [...lines];
  const e = parse(copy[at - 1]!);
  change(e);
  copy[at - 1] = JSON.stringify(e);
  return copy;
};
/** What an attacker without the key can do: recompute every hash and link from line `from` on. */
const rechain = (lines: string[], from: number): string[] => {
  const copy = [...lines];
  let prev = parse(copy[from - 2]!).sealwatch.chain!.hash;
  for (let i = from - 1; i < copy.length; i++) {
    const e = parse(copy[i]!);
    e.sealwatch.chain!.prev = prev;
    e.sealwatch.chain!.hash = recordHash(e);
    prev = e.sealwatch.chain!.hash;
    copy[i] = JSON.stringify(e);
  }
  return copy;
};
const without = (lines: string[], ...at: number[]): string[] => lines.filter((_, i) => !at.includes(i + 1));
const swap = (lines: string[], a: number, b: number): string[] => {
  const copy = [...lines];
  [copy[a - 1], copy[b - 1]] = [copy[b - 1]!, copy[a - 1]!];
  return copy;
};

describe('the event record: a clean log and a tamper matrix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-record-'));
  const { key, pubPem } = newKey();
  const attacker = newKey();
  let lines: string[];
  // 23 events, a checkpoint after every 5: seq 6, 12, 18, 24 are checkpoints, 28 the shutdown one.
  beforeAll(async () => {
    ({ lines } = await writeLog(dir, key, 23));
  });

  it('writes checkpoints every 5 events and at shutdown, and a clean log verifies', () => {
    expect(lines).toHaveLength(28);
    const actions = lines.map((l) => parse(l).event.action);
    expect([6, 12, 18, 24, 28].map((s) => actions[s - 1])).toEqual(Array(5).fill('sealwatch.checkpoint'));
    const result = verifyLines(lines, pubPem);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.runs).toEqual([
      expect.objectContaining({ firstSeq: 1, lastSeq: 28, events: 28, checkpoints: 5, lastCheckpointSeq: 28 }),
    ]);
  });

  it('reads a canonical line without JSON.parse exactly as the parsed path does, and gives up on any edited byte', () => {
    const plain = lines.filter((l) => !l.includes('"checkpoint":'));
    expect(plain.length).toBeGreaterThan(15);
    for (const line of plain) {
      const fast = recordFromCanonicalLine(line);
      expect(fast).toBeDefined();
      expect(fast).toEqual(recordFromJson(JSON.parse(line), line));
    }
    // One character changed anywhere (the content, seq, run_id, prev, the hash itself): the fast path declines,
    // and the parsed path decides.
    const line = plain[3]!;
    const at = (s: string): number => line.indexOf(s);
    for (const i of [
      1,
      at('"message"') + 12,
      at('"seq":') + 6,
      at('"run_id":"') + 11,
      at('"prev":"sha256:') + 15,
      at('"hash":"sha256:') + 15,
    ]) {
      const c = line[i]!;
      const edited = line.slice(0, i) + (c === '1' ? '2' : c === 'a' ? 'b' : '1') + line.slice(i + 1);
      expect(recordFromCanonicalLine(edited), `edited at ${i} (${c})`).toBeUndefined();
    }
    // Checkpoints take the parsed path.
    expect(recordFromCanonicalLine(lines.find((l) => l.includes('"checkpoint":'))!)).toBeUndefined();
  });

  it('a clean log does not verify against another key', () => {
    const result = verifyLines(lines, attacker.pubPem);
    expect(result.ok).toBe(false);
    expect(result.problems.filter((p) => p.kind === 'bad-checkpoint')).toHaveLength(5);
  });

  const reSign =
    (at: number, from: number): ((l: string[]) => string[]) =>
    (l) =>
      edit(l, at, (e) => {
        e.sealwatch.checkpoint!.bundle = parse(l[from - 1]!).sealwatch.checkpoint!.bundle;
        e.sealwatch.chain!.hash = recordHash(e);
      });
  const MATRIX: Array<[string, (l: string[]) => string[], ProblemKind, number, number | undefined]> = [
    ['delete an event in the middle', (l) => without(l, 3), 'deleted', 3, 3],
    ['delete the first event', (l) => without(l, 1), 'deleted', 1, 1],
    ['delete three events in a row', (l) => without(l, 8, 9, 10), 'deleted', 8, 8],
    ['delete a checkpoint', (l) => without(l, 12), 'deleted', 12, 12],
    ['delete the event before the shutdown checkpoint', (l) => without(l, 27), 'deleted', 27, 27],
    ['edit the message', (l) => edit(l, 4, (e) => (e.message = 'nothing happened')), 'changed', 4, 4],
    ['edit a process name', (l) => edit(l, 15, (e) => (e.process!.name = 'bash')), 'changed', 15, 15],
    ['lower a severity', (l) => edit(l, 20, (e) => (e.event.severity = 0)), 'changed', 20, 20],
    ['add a field', (l) => edit(l, 9, (e) => (e.extra = 'x')), 'changed', 9, 9],
    ['remove a field', (l) => edit(l, 9, (e) => delete e.process), 'changed', 9, 9],
    [
      'edit an event and recompute its hash',
      (l) => edit(l, 10, (e) => ((e.message = 'x'), (e.sealwatch.chain!.hash = recordHash(e)))),
      'changed',
      10,
      11,
    ],
    [
      'edit and rechain everything after it',
      (l) =>
        rechain(
          edit(l, 8, (e) => (e.message = 'x')),
          8,
        ),
      'bad-checkpoint',
      12,
      12,
    ],
    ['move an event into another run', (l) => edit(l, 5, (e) => (e.sealwatch.run_id = 'other')), 'deleted', 5, 6],
    ['swap two neighbours', (l) => swap(l, 3, 4), 'reordered', 4, 3],
    ['swap two events three apart', (l) => swap(l, 13, 16), 'reordered', 16, 13],
    ['move the last event to the top', (l) => [l[26]!, ...without(l, 27)], 'reordered', 27, 1],
    ['cut the log after an event', (l) => l.slice(0, 20), 'truncated', 19, 20],
    ['cut the log right after a checkpoint', (l) => l.slice(0, 24), 'truncated', 24, 24],
    ['remove only the shutdown checkpoint', (l) => l.slice(0, 27), 'truncated', 25, 27],
    [
      'sign a checkpoint with another key',
      (l) =>
        edit(l, 12, (e) => {
          const forged = attacker.key;
          const bundle = e.sealwatch.checkpoint!.bundle as { verificationMaterial: { publicKey: { hint: string } } };
          bundle.verificationMaterial.publicKey.hint = forged.keyHint;
          e.sealwatch.chain!.hash = recordHash(e);
        }),
      'bad-checkpoint',
      12,
      12,
    ],
    [
      'flip a byte of a checkpoint signature',
      (l) =>
        edit(l, 18, (e) => {
          const b = e.sealwatch.checkpoint!.bundle as { dsseEnvelope: { signatures: Array<{ sig: string }> } };
          const sig = Buffer.from(b.dsseEnvelope.signatures[0]!.sig, 'base64');
          sig[sig.length - 3]! ^= 1;
          b.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
          e.sealwatch.chain!.hash = recordHash(e);
        }),
      'bad-checkpoint',
      18,
      18,
    ],
    ['replay an older checkpoint in place of a newer one', reSign(12, 6), 'bad-checkpoint', 12, 12],
    [
      'strip the later checkpoints, rechain, drop the end',
      (l) =>
        rechain(
          [12, 18, 24].reduce(
            (acc, s) => edit(acc, s, (e) => delete (e.sealwatch as Record<string, unknown>).checkpoint),
            l,
          ),
          7,
        ).slice(0, 27),
      'missing-checkpoint',
      7,
      27,
    ],
    [
      'a second, different copy of an event',
      (l) => [...l.slice(0, 20), JSON.stringify({ ...parse(l[6]!), message: 'forged' }), ...l.slice(20)],
      'changed',
      7,
      21,
    ],
  ];

  it.each(MATRIX)('%s: found and named at the exact place', (_name, tamper, kind, seq, line) => {
    const result = verifyLines(tamper(lines), pubPem);
    expect(result.ok).toBe(false);
    const match = result.problems.find(
      (p) => p.kind === kind && p.seq === seq && (line === undefined || p.line === line),
    );
    expect(match, JSON.stringify(result.problems, null, 1)).toBeDefined();
    expect(match!.message).toMatch(new RegExp(`seq ${seq}\\b`));
  });

  it('the matrix has at least 20 cases, and an identical duplicate (at-least-once delivery) is not a problem', () => {
    expect(MATRIX.length).toBeGreaterThanOrEqual(20);
    const result = verifyLines([...lines.slice(0, 10), lines[7]!, ...lines.slice(10)], pubPem);
    expect(result.ok).toBe(true);
    expect(result.duplicates).toBe(1);
  });

  it('an ECS log verifies, and an edit in it is named', async () => {
    const { lines: ecs } = await writeLog(dir, key, 8, { format: 'ecs' });
    expect(verifyLines(ecs, pubPem).ok).toBe(true);
    const tampered = edit(ecs, 2, (e) => (e.message = 'x'));
    expect(verifyLines(tampered, pubPem).problems).toEqual([
      expect.objectContaining({ kind: 'changed', seq: 2, line: 2 }),
    ]);
  });

  it('`sealwatch audit verify-log` exits 0 on the clean log and 1 naming the deletion; --pub is required', async () => {
    const pub = join(dir, 'evidence.pub');
    writeFileSync(pub, pubPem);
    const clean = join(dir, 'clean.jsonl');
    writeFileSync(clean, `${lines.join('\n')}\n`);
    const ok = await runCliCaptured(['audit', 'verify-log', clean, '--pub', pub]);
    expect([ok.code, ok.stdout.split('\n')[0]]).toEqual([0, 'event record: verified']);
    // progress only when asked for off a terminal: plain lines on stderr ending at 100%, the result unchanged
    expect(ok.stderr).not.toContain('verifying log');
    const shown = await runCliCaptured(['audit', 'verify-log', clean, '--pub', pub, '--progress']);
    expect(shown.stderr.trimEnd().split('\n').at(-1)).toMatch(/^verifying log: [\d.]+ MB of ~[\d.]+ MB.* \(100%\)$/);
    expect([shown.code, shown.stdout]).toEqual([0, ok.stdout]);
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, `${without(lines, 3).join('\n')}\n`);
    const bad = await runCliCaptured(['audit', 'verify-log', cut, '--pub', pub]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      `deleted: run ${parse(lines[0]!).sealwatch.run_id}: event seq 3 is missing before ${cut}:3`,
    );
    const json = await runCliCaptured(['audit', 'verify-log', cut, '--pub', pub, '--json']);
    expect((JSON.parse(json.stdout) as LogVerifyResult).problems[0]).toMatchObject({
      kind: 'deleted',
      seq: 3,
      line: 3,
    });
    const noKey = await runCliCaptured(['audit', 'verify-log', clean]);
    expect(noKey.code).toBe(2);
  });

  it('reads a hostile file line by line: a 3 MiB line is skipped and counted, CRLF line ends verify', async () => {
    const trusted = trustedKeySet([pubPem]);
    const long = join(dir, 'long-line.jsonl');
    // an attacker's line with no LF for 3 MiB, between two events: never held whole, the chain around it intact
    writeFileSync(long, `${lines.slice(0, 4).join('\n')}\n${'x'.repeat(3 << 20)}\n${lines.slice(4).join('\n')}\n`);
    const result = await verifyLogFiles([long], trusted);
    expect(result.problems).toEqual([]);
    expect(result.unreadable).toBe(1);
    const crlf = join(dir, 'crlf.jsonl');
    writeFileSync(crlf, `${lines.join('\r\n')}\r\n`);
    const fromCrlf = await verifyLogFiles([crlf], trusted);
    expect([fromCrlf.ok, fromCrlf.problems, fromCrlf.unreadable]).toEqual([true, [], 0]);
  });

  it("openssl verifies a checkpoint's DSSE signature independently", () => {
    const bundle = parse(lines[11]!).sealwatch.checkpoint!.bundle as {
      dsseEnvelope: { payload: string; payloadType: string; signatures: Array<{ sig: string }> };
    };
    const env = bundle.dsseEnvelope;
    const payload = Buffer.from(env.payload, 'base64');
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${payload.length} `),
      payload,
    ]);
    writeFileSync(join(dir, 'pae.bin'), pae);
    writeFileSync(join(dir, 'sig.der'), Buffer.from(env.signatures[0]!.sig, 'base64'));
    writeFileSync(join(dir, 'ossl.pub'), pubPem);
    const out = execFileSync(
      'openssl',
      ['dgst', '-sha256', '-verify', join(dir, 'ossl.pub'), '-signature', join(dir, 'sig.der'), join(dir, 'pae.bin')],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('Verified OK');
    const statement = JSON.parse(payload.toString('utf8')) as { predicate: { seq: number; head: string } };
    expect(statement.predicate).toMatchObject({ seq: 11, head: parse(lines[10]!).sealwatch.chain!.hash });
  });

  it('a restart continues the record: the new run names the last head, and cutting the old run is named', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'sw-record-spool-'));
    const file = join(dir, 'restart.jsonl');
    await writeLog(dir, key, 7, { spoolDir, file, runId: 'run-a' });
    const { lines: both } = await writeLog(dir, key, 4, { spoolDir, file, runId: 'run-b' });
    const firstOfB = both.map(parse).find((e) => e.sealwatch.run_id === 'run-b')!;
    const lastOfA = both
      .map(parse)
      .filter((e) => e.sealwatch.run_id === 'run-a')
      .at(-1)!;
    expect(firstOfB.sealwatch.chain!.previous_run).toEqual({
      run_id: 'run-a',
      seq: lastOfA.sealwatch.seq,
      hash: lastOfA.sealwatch.chain!.hash,
    });
    const clean = await verifyLogFiles([file], trustedKeySet([pubPem]));
    expect(clean.problems).toEqual([]);
    expect(clean.runs.map((r) => [r.runId, r.previousRunId])).toEqual([
      ['run-a', undefined],
      ['run-b', 'run-a'],
    ]);
    // Remove run A's last two lines (its last event and its shutdown checkpoint): run B says where A ended.
    const aCount = both.filter((l) => parse(l).sealwatch.run_id === 'run-a').length;
    const cut = verifyLines(without(both, aCount - 1, aCount), pubPem);
    expect(cut.problems).toContainEqual(
      expect.objectContaining({ kind: 'truncated', runId: 'run-a', seq: aCount - 1, toSeq: aCount }),
    );
  });
});

describeRsyslog('the event record through a real rsyslog, across spool replay and a restart', () => {
  let receiver: RsyslogReceiver;
  beforeAll(async () => {
    receiver = await startRsyslog();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('verifies the chain from the CEF lines rsyslog stored, with the first run delivered from the spool by the second', async () => {
    const { key, pubPem } = newKey();
    const spoolDir = mkdtempSync(join(tmpdir(), 'sw-record-rs-'));
    const url = `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`;
    const run = async (runId: string, n: number): Promise<void> => {
      const d = createDispatcher([parseOutputUrl(url)], {
        logger: silentLogger(),
        runId,
        spoolDir,
        record: { key, every: 4, seconds: 3600 },
      });
      for (let i = 0; i < n; i++) d.dispatch(event(i));
      await d.close();
    };
    await receiver.stop();
    await run('rs-run-a', 9); // receiver down: run A's 9 events and 3 checkpoints wait in the spool
    await receiver.restart();
    await run('rs-run-b', 5); // replays run A first, then its own
    await receiver.waitFor(12 + 7, { filter: (m) => m.rawmsg.includes('rs-run-') });
    // rsyslog writes parsed.jsonl and messages.log as two actions, each flushed at the end of its batch
    const log = join(receiver.dir, 'messages.log');
    await waitFor('messages.log to hold both runs', () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.includes('rs-run-')).length >=
      12 + 7
        ? true
        : undefined,
    );
    expect(readFileSync(log, 'utf8')).toMatch(/^\S+ \S+ sealwatch CEF:0\|/m);
    const result = await verifyLogFiles([log], trustedKeySet([pubPem]));
    expect(result.problems).toEqual([]);
    expect(result.runs.map((r) => [r.runId, r.events, r.checkpoints, r.previousRunId])).toEqual([
      ['rs-run-a', 12, 3, undefined],
      ['rs-run-b', 7, 2, 'rs-run-a'],
    ]);
    // And a line deleted from what rsyslog stored is named.
    const stored = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('rs-run-'));
    const gone = verifyLines(without(stored, 5), pubPem);
    expect(gone.problems).toContainEqual(expect.objectContaining({ kind: 'deleted', runId: 'rs-run-a', seq: 5 }));
  });
});

describe('the end of a run', () => {
  it('is signed as such even right after a periodic checkpoint', async () => {
    const { key, pubPem } = newKey();
    const dir = mkdtempSync(join(tmpdir(), 'sw-record-end-'));
    // 10 events, a checkpoint after every 5: the 10th event makes one due, then shutdown adds its own.
    const { lines } = await writeLog(dir, key, 10);
    const reasons = lines
      .map(parse)
      .filter((e) => e.sealwatch.checkpoint !== undefined)
      .map((e) => e.message.replace(/.*\((\w+)\)$/, '$1'));
    expect(reasons).toEqual(['count', 'count', 'shutdown']);
    expect(verifyLines(lines, pubPem).problems).toEqual([]);
  });
});

describe('the watcher signs its record (--evidence-key)', () => {
  it('`watch -- CMD` writes chained events with checkpoints that verify-log accepts; a deleted line is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-record-watch-'));
    const { key, pubPem } = newKey();
    const keyFile = join(dir, 'evidence.key');
    writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    writeFileSync(join(dir, 'evidence.pub'), pubPem);
    const file = join(dir, 'events.jsonl');
    const run = await runCliCaptured([
      'watch',
      '--output',
      `file://${file}`,
      '--evidence-key',
      keyFile,
      '--emit',
      'all',
      '--spool-dir',
      join(dir, 'spool'),
      '--',
      'sh',
      '-c',
      'ls / >/dev/null; sleep 1; cat /etc/hostname >/dev/null; sleep 1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.map(parse).at(-1)!.event.action).toBe('sealwatch.checkpoint');
    const ok = await runCliCaptured(['audit', 'verify-log', file, '--pub', join(dir, 'evidence.pub')]);
    expect([ok.code, ok.stdout.split('\n')[0]]).toEqual([0, 'event record: verified']);
    const result = verifyLines(without(lines, 2), pubPem);
    expect(result.problems).toContainEqual(expect.objectContaining({ kind: 'deleted', seq: 2, line: 2 }));
  });
});
