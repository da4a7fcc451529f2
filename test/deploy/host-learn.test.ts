import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfigFile } from '../../shared/config/index.ts';
import { profileSpec } from '../../shared/profile/index.ts';
import { parseRuntimeTraceFile } from '../../shared/seal/index.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { startContainer, useContainerCleanup } from '../harness/containers.ts';
import { describeDocker } from '../harness/docker.ts';
import { run } from '../harness/exec.ts';
import { buildAppImage } from '../harness/images.ts';
import { procConnectorRequired, procConnectorUnavailable } from '../harness/proc-connector.ts';
import { readEventsFile, waitFor } from '../harness/wait.ts';

/**
 * `sealwatch learn --docker --container X`: a container learned from the host through the kernel proc connector,
 * against the real engine and kernel. The workload runs a program that lives about a millisecond (busybox `cat`
 * of a small file; `date` would not do: busybox sh runs it in-process, no exec) between 200 ms sleeps: a /proc
 * poller at 100 ms sees it now and then at best; the connector every time. It runs the bundle (dist/cli.mjs), as
 * users and the image do: the connector's socket thread is then the file the build put beside it.
 */
const CLI = resolve(import.meta.dirname, '../../dist/cli.mjs');
const connectorMissing = await procConnectorUnavailable();
/** `sealwatch learn --docker --container NAME --duration D --out FILE`, the bundle in a process of its own */
const learnFromHost = (container: string, duration: string, out: string, more: string[] = []) =>
  run(process.execPath, [
    CLI,
    'learn',
    '--docker',
    '--container',
    container,
    '--duration',
    duration,
    '--out',
    out,
    ...more,
  ]);

describeDocker('learn --docker (host learn mode)', () => {
  useContainerCleanup();

  it.runIf(connectorMissing === undefined || procConnectorRequired())(
    'learns a 1 ms program run in a loop into the profile, in the same format as the sidecar learner',
    async () => {
      expect(connectorMissing, 'SEALWATCH_REQUIRE_PROC_CONNECTOR=1: the kernel proc connector').toBeUndefined();
      const image = await buildAppImage({ cmd: ['sleep', '3600'], repository: 'sealwatch-test/host-learn-app' });
      const app = await startContainer({
        image,
        cmd: ['sh', '-c', 'while true; do cat /etc/hostname > /dev/null; sleep 0.2; done'],
      });
      const dir = mkdtempSync(join(tmpdir(), 'sw-host-learn-'));
      const out = join(dir, 'profile.yaml');
      const trace = join(dir, 'trace.json');
      const learned = await learnFromHost(app.name, '4s', out, ['--runtime-trace', trace]);
      expect(learned.code, learned.stderr).toBe(0);
      expect(learned.stderr).toMatch(/learning .* exec events: kernel proc connector/);
      expect(learned.stderr).toMatch(/kernel proc connector: \d+ execs on the host/);
      const text = readFileSync(out, 'utf8');
      expect(text).toMatch(/^# Learned by `sealwatch learn`/);
      expect(text).toContain(`# Target: container ${app.name}`);
      const { value: profile } = loadConfigFile(profileSpec, out);
      const names = profile.processes.map((p) => `${p.exe} ${p.name ?? ''}`.trim());
      expect(names).toContain('/bin/busybox cat');
      // the user name of a process gone before the tick, from its parent's root (same container)
      expect(profile.processes.find((p) => p.name === 'cat')?.users).toEqual(['root']);
      expect(names).toContain('/bin/busybox sleep');
      expect(names).toContain('/bin/busybox sh');
      expect(profile.metadata.source).toBe('learned');
      // the runtime trace beside it (#14 item 3): every 1 ms cat counted, as the connector saw them
      const predicate = parseRuntimeTraceFile(readFileSync(trace, 'utf8'), trace);
      expect(predicate.monitor.tracePolicy).toMatchObject({ mode: 'host-container' });
      const cats = predicate.monitorLog.process!.filter((p) => p.name === 'cat');
      expect(cats.reduce((n, p) => n + (p.count ?? 0), 0)).toBeGreaterThanOrEqual(5);
    },
    120_000,
  );

  it.runIf(connectorMissing === undefined || procConnectorRequired())(
    'a profile learned from the host keeps the sidecar quiet on the same workload: a web server, a wget -q -O /dev/null health loop, ls',
    async () => {
      expect(connectorMissing, 'SEALWATCH_REQUIRE_PROC_CONNECTOR=1: the kernel proc connector').toBeUndefined();
      const image = await buildAppImage({
        cmd: ['sleep', '3600'],
        files: { '/www/index.html': '<h1>ok</h1>\n' },
        repository: 'sealwatch-test/host-learn-web',
      });
      const app = await startContainer({
        image,
        cmd: [
          'sh',
          '-c',
          'httpd -p 127.0.0.1:8080 -h /www; while true; do wget -q -O /dev/null http://127.0.0.1:8080/; ls /www > /dev/null; sleep 0.1; done',
        ],
      });
      const dir = mkdtempSync(join(tmpdir(), 'sw-host-learn-web-'));
      const profile = join(dir, 'profile.yaml');
      const learned = await learnFromHost(app.name, '6s', profile);
      expect(learned.code, learned.stderr).toBe(0);
      // monitored by /proc polling, as a sidecar or `watch --container` does, with the learned profile
      const events = join(dir, 'events.jsonl');
      const watcher = spawn(
        process.execPath,
        [CLI, 'watch', '--container', app.name, '--profile', profile, '--emit', 'all', '--output', `file://${events}`],
        { stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => watcher.once('exit', resolve));
      try {
        // a few resource samples, and health checks seen by /proc polling (a wget lives a few milliseconds)
        const since = Date.now();
        await waitFor(
          '5 wget runs watched, over 4 s at least',
          () =>
            (Date.now() - since > 4000 &&
              readEventsFile(events).filter((e) => e.event.action === 'process-started' && e.process?.name === 'wget')
                .length >= 5) ||
            undefined,
          60_000,
        );
      } finally {
        watcher.kill('SIGTERM');
        await exited;
      }
      const alerts = readEventsFile(events).filter((e) => e.event.kind === 'alert');
      expect(alerts.map((e) => `${e.rule?.id}: ${e.message}`)).toEqual([]);
    },
    180_000,
  );

  it('rejects combinations that do not fit, in one line', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sw-host-learn-')), 'p.yaml');
    const cases: [string[], RegExp][] = [
      [['--duration', '5s'], /learn --docker learns one container: give --container/],
      [['--container', 'x', '--duration', '5s', '--', 'ls'], /cannot be combined with -- COMMAND/],
      [['--container', 'x', '--duration', '5s', '--listen', '127.0.0.1:0'], /serves no API/],
    ];
    for (const [args, message] of cases) {
      const run = await runCliCaptured(['learn', '--docker', '--out', out, ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    const watch = await runCliCaptured(['watch', '--docker', '--mode', 'learn']);
    expect(watch.code).toBe(2);
    expect(watch.stderr).toMatch(/sealwatch learn --docker --container NAME/);
  });
});
