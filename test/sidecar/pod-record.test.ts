import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LogVerifyResult } from '../../audit/verify-log/index.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { startContainer, useContainerCleanup } from '../harness/containers.ts';
import { describeDocker } from '../harness/docker.ts';
import { runOk } from '../harness/exec.ts';
import { buildAppImage, buildNodeBaseImage } from '../harness/images.ts';
import { waitFor } from '../harness/wait.ts';
import { startWatcherInPod } from './pod-watcher.ts';

/**
 * The event record as an auditor meets it (issue 14): a real watcher in the pod pattern, signing its record with
 * `--evidence-key`, writes a log; the log verifies; then each way of tampering with it (delete a line, edit a
 * field, swap two lines, cut the end, replace a checkpoint's signature) is found by `audit verify-log` and named
 * at its place. test/outputs/record.test.ts holds the full tamper matrix on a dispatcher's log; this is the same
 * check on what a deployed watcher wrote.
 */
describeDocker('the event record of a watcher in a pod (real Docker, --evidence-key)', () => {
  useContainerCleanup();
  const out = mkdtempSync(join(tmpdir(), 'sw-pod-record-'));
  const pub = join(out, 'evidence.pub');
  let lines: string[];
  let runId: string;

  beforeAll(async () => {
    const [appImage, nodeImage] = await Promise.all([buildAppImage(), buildNodeBaseImage()]);
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(out, 'evidence.key'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    writeFileSync(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const app = await startContainer({ image: appImage, cmd: ['sleep', '3600'] });
    const { watcher, events } = await startWatcherInPod(app, {
      nodeImage,
      out,
      args: ['--mode', 'monitor', '--evidence-key', '/out/evidence.key'],
    });
    await waitFor('/readyz', async () => {
      const r = await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/readyz']);
      return r.code === 0 && r.stdout.includes('"ready"') ? true : undefined;
    });
    // Something worth recording: a program run from /tmp, held long enough for the poller.
    await app.exec(['cp', '/bin/busybox', '/tmp/sleep']);
    await app.execDetached(['/tmp/sleep', '3']);
    await waitFor('the exec-from-tmp alert', () => events().find((e) => e.rule?.id === 'exec-from-tmp'), 60_000);
    // SIGTERM: the watcher ends its run with a shutdown checkpoint.
    await runOk('docker', ['stop', '--time', '30', watcher.name]);
    lines = readFileSync(join(out, 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
    runId = (JSON.parse(lines[0]!) as { sealwatch: { run_id: string } }).sealwatch.run_id;
  }, 240_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const seqOf = (line: string): number => (JSON.parse(line) as { sealwatch: { seq: number } }).sealwatch.seq;
  const isCheckpoint = (line: string): boolean =>
    (JSON.parse(line) as { event: { action: string } }).event.action === 'sealwatch.checkpoint';

  async function verify(name: string, content: string[]): Promise<{ code: number; result: LogVerifyResult }> {
    const file = join(out, `${name}.jsonl`);
    writeFileSync(file, `${content.join('\n')}\n`);
    const run = await runCliCaptured(['audit', 'verify-log', file, '--pub', pub, '--json']);
    return { code: run.code, result: JSON.parse(run.stdout) as LogVerifyResult };
  }

  it('the log is chained in order and ends with a shutdown checkpoint, and it verifies', async () => {
    expect(lines.length).toBeGreaterThan(4);
    expect(lines.map(seqOf)).toEqual(lines.map((_, i) => i + 1));
    expect(isCheckpoint(lines.at(-1)!)).toBe(true);
    const clean = await verify('clean', lines);
    expect(clean.result.problems).toEqual([]);
    expect(clean.code).toBe(0);
  });

  it.each([
    ['delete a line', (l: string[]) => [...l.slice(0, 2), ...l.slice(3)], 'deleted', 3],
    [
      'edit a field',
      (l: string[]) =>
        l.map((x, i) => (i === 1 ? JSON.stringify({ ...(JSON.parse(x) as object), message: 'nothing happened' }) : x)),
      'changed',
      2,
    ],
    ['swap two lines', (l: string[]) => [l[0]!, l[2]!, l[1]!, ...l.slice(3)], 'reordered', undefined],
    // the run's only checkpoint is its shutdown one (a short run): cut, no event of the run is signed
    ['cut the end', (l: string[]) => l.slice(0, -2), 'truncated|unsigned-run', undefined],
  ] as const)('%s: found and named', async (name, tamper, kind, seq) => {
    const { code, result } = await verify(name.replaceAll(' ', '-'), tamper(lines));
    expect(code).toBe(1);
    const problem = result.problems.find((p) => kind.split('|').includes(p.kind));
    expect(problem, JSON.stringify(result.problems)).toBeDefined();
    expect(problem!.runId).toBe(runId);
    if (seq !== undefined) expect(problem!.seq).toBe(seq);
  });

  it("a checkpoint whose signature is replaced is named at the checkpoint's seq", async () => {
    const last = lines.length - 1;
    const forged = JSON.parse(lines[last]!) as {
      sealwatch: { checkpoint: { bundle: { dsseEnvelope: { signatures: Array<{ sig: string }> } } } };
    };
    const sig = forged.sealwatch.checkpoint.bundle.dsseEnvelope.signatures[0]!;
    const bytes = Buffer.from(sig.sig, 'base64');
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    sig.sig = bytes.toString('base64');
    const { code, result } = await verify('forged', [...lines.slice(0, last), JSON.stringify(forged)]);
    expect(code).toBe(1);
    expect(result.problems).toContainEqual(expect.objectContaining({ kind: 'bad-checkpoint', seq: last + 1 }));
  });
});
