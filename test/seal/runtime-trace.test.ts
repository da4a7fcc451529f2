import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildRuntimeTracePredicate,
  parseRuntimeTraceFile,
  parseSealJsonl,
  RUNTIME_TRACE_PREDICATE,
  runtimeTraceStatement,
  TRACE_MAX_ENTRIES,
  verifySeal,
} from '../../shared/seal/index.ts';
import { createTraceRecorder } from '../../sidecar/learn/index.ts';
import { started } from '../sidecar/make-events.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { freePort } from '../harness/net.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { makeKeyFiles } from './helpers.ts';
import { cli, readSeal, removeTags, testTag } from './docker-helpers.ts';

const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s));

/** What `learn` would hand over after 42 s of integration tests: a health loop, a listener, one egress. */
function sampleTrace() {
  return buildRuntimeTracePredicate({
    monitor: { version: '0.1.0', mode: 'container' },
    monitoredProcess: {
      hostID: 'https://github.com',
      type: 'https://actions.github.io/buildtypes/workflow/v1',
      event: 'https://github.com/org/app/actions/runs/812/attempts/1',
    },
    startedOn: at(0),
    finishedOn: at(42),
    processes: [
      { executable: '/bin/busybox', name: 'httpd', args: ['httpd', '-f', '-p', '8080'], user: 'app', at: at(1) },
      ...Array.from({ length: 40 }, (_, i) => ({
        executable: '/bin/busybox',
        name: 'wget',
        args: ['wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/'],
        user: 'app',
        at: at(i + 2),
      })),
    ],
    connections: [
      { direction: 'listen', protocol: 'tcp', ip: '0.0.0.0', port: 8080, executable: '/bin/busybox', name: 'httpd' },
      ...Array.from({ length: 3 }, () => ({
        direction: 'outbound' as const,
        protocol: 'tcp' as const,
        ip: '127.0.0.1',
        port: 5432,
        executable: '/bin/busybox',
        name: 'nc',
      })),
    ],
  });
}

describe('the in-toto runtime-trace predicate', () => {
  it('the builder folds repeated runs and connections, and the file reader takes a statement or the predicate', () => {
    const p = sampleTrace();
    expect(p.monitorLog.process).toHaveLength(2);
    expect(p.monitorLog.process!.find((e) => e.name === 'wget')).toMatchObject({
      count: 40,
      firstSeen: at(2).toISOString(),
      lastSeen: at(41).toISOString(),
    });
    expect(p.monitorLog.network!.find((n) => n.direction === 'outbound')).toMatchObject({ port: 5432, count: 3 });
    const statement = runtimeTraceStatement(p, { name: 'app:1', digest: { sha256: 'a'.repeat(64) } });
    expect(statement.predicateType).toBe(RUNTIME_TRACE_PREDICATE);
    expect(parseRuntimeTraceFile(JSON.stringify(statement), 'trace.json')).toEqual(p);
    expect(parseRuntimeTraceFile(JSON.stringify(p), 'trace.json')).toEqual(p);
    expect(() =>
      parseRuntimeTraceFile(
        JSON.stringify({ ...statement, predicateType: 'https://slsa.dev/provenance/v1' }),
        't.json',
      ),
    ).toThrow(/^t\.json: predicateType: expected https:\/\/in-toto\.io\/attestation\/runtime-trace\/v0\.1/);
    expect(() => parseRuntimeTraceFile(JSON.stringify({ ...p, monitorLog: {} }), 't.json')).toThrow(
      /^t\.json: monitorLog: at least one of process, network, fileAccess/,
    );
  });
});

describe('the trace learn records', () => {
  it('folds repeats as they come and only counts distinct entries past the cap: memory stays bounded', () => {
    const recorder = createTraceRecorder();
    for (let i = 0; i < TRACE_MAX_ENTRIES + 5; i++)
      recorder.observe(started({ pid: i + 2, name: 'job', exe: '/bin/job', args: ['job', String(i)] }));
    for (let i = 0; i < 3; i++) recorder.observe(started({ pid: 1, name: 'job', exe: '/bin/job', args: ['job', '0'] }));
    const p = recorder.predicate({
      monitor: { version: 't', mode: 'command' },
      monitoredProcess: { hostID: 'h', type: 't', event: 'e' },
      startedOn: at(0),
      finishedOn: at(1),
    });
    expect(p.monitorLog.process).toHaveLength(TRACE_MAX_ENTRIES);
    expect(p.monitorLog.process!.find((e) => e.arguments?.join(' ') === 'job 0')?.count).toBe(4);
    expect(p.metadata?.truncated).toEqual({ process: 5 });
  });
});

describeDocker('seal --runtime-trace and audit image (real engine)', () => {
  const created: string[] = [];
  const keys = makeKeyFiles();
  let work: string;
  let sealed: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sw-trace-'));
    const base = await buildAppImage({ repository: 'sealwatch-test/hostile-image' });
    const trace = sampleTrace();
    writeFileSync(
      join(work, 'trace.json'),
      JSON.stringify(runtimeTraceStatement(trace, { name: 'app:ci', digest: { sha256: 'b'.repeat(64) } })),
    );
    sealed = testTag(created, 'traced');
    const res = await cli(
      ['seal', '--image', base, '--key', keys.keyPath, '--tag', sealed, '--runtime-trace', 'trace.json'],
      work,
    );
    expect(res.code, res.err).toBe(0);
  });
  afterAll(async () => {
    await removeTags(created);
    rmSync(work, { recursive: true, force: true });
  });

  it('the trace is signed into the seal about the sealed image, and audit image tells it', async () => {
    const seal = verifySeal(parseSealJsonl(await readSeal(sealed), 'seal'), { trustedKeys: [keys.pubPem] });
    expect(seal.runtimeTraces).toHaveLength(1);
    expect(seal.runtimeTraces[0]!.predicate.monitoredProcess.event).toContain('/runs/812/');
    const audit = await cli(['audit', 'image', sealed, '--pub', keys.pubPath], work);
    expect(audit.code, audit.err).toBe(0);
    expect(audit.out).toContain(
      'runtime trace: https://github.com/org/app/actions/runs/812/attempts/1 on https://github.com, 42 s from 2026-12-01T10:00:00.000Z',
    );
    expect(audit.out).toContain('ran 1 program(s), 41 time(s): /bin/busybox ×41');
    expect(audit.out).toContain('listened on: 0.0.0.0:8080/tcp; connected to: 127.0.0.1:5432/tcp');
    const json = JSON.parse((await cli(['audit', 'image', sealed, '--pub', keys.pubPath, '--json'], work)).out);
    expect(json.runtimeTraces[0]).toMatchObject({ durationSeconds: 42, executions: 41 });
  });
});

describeDocker('learn --runtime-trace -- CMD, then seal --runtime-trace and audit image (#14 item 3)', () => {
  const created: string[] = [];
  const keys = makeKeyFiles();
  const work = mkdtempSync(join(tmpdir(), 'sw-learn-trace-'));
  afterAll(async () => {
    await removeTags(created);
    rmSync(work, { recursive: true, force: true });
  });

  it('learn writes the statement beside the profile; seal accepts it and audit image tells what ran', async () => {
    const port = await freePort();
    // a listener and three runs of the same program with the same arguments, each alive long enough to be seen
    const script = `busybox nc -l -p ${port} & for i in 1 2 3; do sleep 0.6; done; kill $!`;
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'org/app',
      GITHUB_RUN_ID: '913',
      GITHUB_RUN_ATTEMPT: '2',
    };
    const learned = await runCliCaptured(
      ['learn', '--out', 'profile.yaml', '--runtime-trace', 'trace.json', '--tick', '50', '--', 'sh', '-c', script],
      { cwd: work, env },
    );
    expect(learned.code, learned.stderr).toBe(0);
    const text = readFileSync(join(work, 'trace.json'), 'utf8');
    const statement = JSON.parse(text) as { subject: { name: string; digest: { sha256: string } }[] };
    // about the profile learned with it
    expect(statement.subject).toEqual([
      {
        name: 'profile.yaml',
        digest: {
          sha256: createHash('sha256')
            .update(readFileSync(join(work, 'profile.yaml')))
            .digest('hex'),
        },
      },
    ]);
    const trace = parseRuntimeTraceFile(text, 'trace.json');
    expect(trace.monitoredProcess).toEqual({
      hostID: 'https://github.com/actions/runner',
      type: 'https://sealwatch.dev/buildtypes/github/v1',
      event: 'https://github.com/org/app/actions/runs/913/attempts/2',
    });
    expect(trace.monitor.tracePolicy).toMatchObject({ mode: 'command' });
    const sleeps = trace.monitorLog.process!.filter((p) => p.arguments?.join(' ') === 'sleep 0.6');
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]!.count).toBeGreaterThanOrEqual(2);
    expect(trace.monitorLog.network).toContainEqual(
      expect.objectContaining({ direction: 'listen', protocol: 'tcp', port }),
    );

    const base = await buildAppImage({ repository: 'sealwatch-test/hostile-image' });
    const sealed = testTag(created, 'learned-trace');
    const res = await cli(
      ['seal', '--image', base, '--key', keys.keyPath, '--tag', sealed, '--runtime-trace', 'trace.json'],
      work,
    );
    expect(res.code, res.err).toBe(0);
    const audit = await cli(['audit', 'image', sealed, '--pub', keys.pubPath], work);
    expect(audit.code, audit.err).toBe(0);
    expect(audit.out).toContain(
      'runtime trace: https://github.com/org/app/actions/runs/913/attempts/2 on https://github.com/actions/runner',
    );
    expect(audit.out).toMatch(new RegExp(`listened on: [^\\n]*:${port}/tcp`));
  }, 90_000);
});
