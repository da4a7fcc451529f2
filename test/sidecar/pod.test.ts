import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Event } from '../../shared/events/index.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage, buildNodeBaseImage } from '../harness/images.ts';
import { startContainer, useContainerCleanup, type TestContainer } from '../harness/containers.ts';
import { waitFor } from '../harness/wait.ts';
import { startWatcherInPod } from './pod-watcher.ts';

/**
 * The pod pattern, for real: an app container (busybox, FROM scratch) and the watcher in a second
 * container sharing its PID and network namespaces (Kubernetes shareProcessNamespace; compose
 * `pid: service:app`). The watcher runs the built CLI (dist/cli.mjs) from the repo mounted read-only
 * into a Node image; events go to a JSONL file on a mounted folder.
 * Why a sidecar container rather than the watcher on the host: it is the deployment we ship,
 * and it proves PID-namespace-local PIDs, /proc/<pid>/net of the shared namespace and kill across
 * containers of one pod.
 */
// ps and kill are the tests' own probes: allowed, or enforce mode kills them (a SIGKILLed ps printed nothing)
const PROFILE = `apiVersion: sealwatch.dev/v1
kind: Profile
processes:
  - { exe: /bin/busybox, name: sleep }
  - { exe: /bin/busybox, name: sh }
  - { exe: /bin/busybox, name: cat }
  - { exe: /bin/busybox, name: cp }
  - { exe: /bin/busybox, name: wget }
  - { exe: /bin/busybox, name: ps }
  - { exe: /bin/busybox, name: kill }
network:
  listen: []
`;

describeDocker('watch in a pod (real Docker, shared PID + network namespace)', () => {
  useContainerCleanup();
  let appImage: string;
  let nodeImage: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    [appImage, nodeImage] = await Promise.all([buildAppImage(), buildNodeBaseImage()]);
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function pod(
    mode: 'monitor' | 'enforce',
    extra: string[] = [],
    mounts: { host: string; container: string; readonly?: boolean }[] = [],
  ): Promise<{ app: TestContainer; watcher: TestContainer; events: () => Event[] }> {
    const out = mkdtempSync(join(tmpdir(), 'sw-pod-'));
    dirs.push(out);
    writeFileSync(join(out, 'profile.yaml'), PROFILE);
    const app = await startContainer({ image: appImage, cmd: ['sleep', '3600'] });
    const { watcher, events } = await startWatcherInPod(app, {
      nodeImage,
      out,
      args: ['--profile', '/out/profile.yaml', '--mode', mode, ...extra],
      mounts,
    });
    // readiness through the API, from inside the pod's network namespace (loopback only)
    await waitFor('/readyz', async () => {
      const r = await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/readyz']);
      return r.code === 0 && r.stdout.includes('"ready":true') ? true : undefined;
    });
    return { app, watcher, events };
  }

  it('monitor: sees sh -c, nc -l / nc client, a binary run from /tmp and /etc/shadow held open', async () => {
    const { app, events } = await pod('monitor');
    await app.execDetached(['sh', '-c', 'sleep 40']);
    // stdin from a pipe that stays open, so neither side closes at once
    await app.execDetached(['sh', '-c', 'sleep 40 | nc -l -p 9000']);
    await waitFor('nc listening', () =>
      events().find((e) => e.event.action === 'connection-listening' && e.source?.port === 9000),
    );
    await app.execDetached(['sh', '-c', 'sleep 40 | nc 127.0.0.1 9000']);
    await app.exec(['cp', '/bin/busybox', '/tmp/sleep']);
    await app.execDetached(['/tmp/sleep', '40']);
    await app.execDetached(['sh', '-c', 'exec 3</etc/shadow; exec sleep 40']);

    const alerts = (rule: string) => events().filter((e) => e.event.kind === 'alert' && e.rule?.id === rule);
    const missing = (): string[] => [
      ...['suspicious-network-tool', 'profile.listen-not-declared', 'exec-from-tmp', 'sensitive-file-open'].filter(
        (r) => alerts(r).length === 0,
      ),
      ...(events().some((e) => e.event.action === 'connection-opened' && e.destination?.port === 9000)
        ? []
        : ['connection-opened to 9000']),
    ];
    await waitFor('all alerts', () => (missing().length === 0 ? true : undefined)).catch((error: Error) => {
      throw new Error(`${error.message}; missing: ${missing().join(', ')}`);
    });
    const all = events();
    // busybox applets are told apart by argv[0]: nc is flagged, sleep and sh are in the profile
    const nc = alerts('suspicious-network-tool')[0]!;
    expect(nc.process?.name).toBe('nc');
    expect(nc.process?.executable).toBe('/bin/busybox');
    expect(alerts('profile.exe-not-allowed').map((e) => e.process?.name)).toContain('nc');
    // `sleep` is allowed as /bin/busybox; the same applet name from /tmp/sleep is not
    const sleeps = alerts('profile.exe-not-allowed').filter((e) => e.process?.name === 'sleep');
    expect(sleeps.map((e) => e.process?.executable)).toEqual(sleeps.map(() => '/tmp/sleep'));
    // the listening socket is mapped to the nc process through /proc/<pid>/fd
    const listen = alerts('profile.listen-not-declared')[0]!;
    expect(listen.process?.pid).toBe(nc.process?.pid);
    const conn = all.find((e) => e.event.action === 'connection-opened' && e.destination?.port === 9000)!;
    expect(conn.destination?.ip).toBe('127.0.0.1');
    expect(conn.process?.name).toBe('nc');
    expect(alerts('exec-from-tmp')[0]!.process?.executable).toBe('/tmp/sleep');
    const shadow = alerts('sensitive-file-open')[0]!;
    expect(shadow.file?.path).toBe('/etc/shadow');
    // sh's redirect opened it and the same PID then exec'd sleep: the opener is named as whichever program the
    // PID ran when the open was matched to it (file sight at once: sh; the poller's fd scan later: sleep)
    expect(['sh', 'sleep']).toContain(shadow.process?.name);
    // sh -c was seen, and the watcher never reports itself
    expect(all.some((e) => e.event.action === 'process-started' && e.process?.name === 'sh')).toBe(true);
    expect(all.some((e) => e.process?.executable === '/usr/local/bin/node')).toBe(false);
    // monitor mode never kills
    expect(all.some((e) => e.sealwatch.outcome === 'killed')).toBe(false);
    // the API answers status and filtered events
    const status = JSON.parse((await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/v1/status'])).stdout);
    expect(status.mode).toBe('monitor');
    expect(status.processesSeen).toBeGreaterThan(3);
    const filtered = JSON.parse(
      (await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/v1/events?rule=exec-from-tmp'])).stdout,
    ) as { events: Event[] };
    expect(filtered.events.length).toBeGreaterThan(0);
    expect(filtered.events.every((e) => e.rule?.id === 'exec-from-tmp')).toBe(true);
    const metrics = (await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/metrics'])).stdout;
    expect(metrics).toMatch(/sealwatch_events_total\{rule="exec-from-tmp",severity="high",outcome="alerted"\} \d+/);
  });

  it('enforce: SIGKILLs the offending process (the right PID) and leaves allowed ones running', async () => {
    const { app, events } = await pod('enforce');
    await app.exec(['cp', '/bin/busybox', '/tmp/sleep']);
    await app.execDetached(['sh', '-c', 'sleep 300']);
    await app.execDetached(['/tmp/sleep', '300']);
    const killed = await waitFor('a kill', () =>
      events().find((e) => e.event.action === 'process-killed' && e.process?.executable === '/tmp/sleep'),
    );
    expect(killed.sealwatch.outcome).toBe('killed');
    expect(killed.rule?.id).toMatch(/exec-from-tmp|profile\.exe-not-allowed/);
    const pid = killed.process!.pid;
    // the process is gone from the pod's PID namespace
    await waitFor('pid gone', async () =>
      (await app.exec(['kill', '-0', String(pid)])).code !== 0 ? true : undefined,
    );
    const ps = (await app.exec(['ps', '-o', 'pid,args'])).stdout;
    expect(ps).not.toContain('/tmp/sleep');
    // the allowed sleep is still running
    expect(ps).toMatch(/sleep 300/);
  });

  it('enforce --dry-run: reports what it would kill and kills nothing', async () => {
    const { app, events } = await pod('enforce', ['--dry-run']);
    await app.exec(['cp', '/bin/busybox', '/tmp/sleep']);
    await app.execDetached(['/tmp/sleep', '300']);
    const dry = await waitFor('dry-run alert', () =>
      events().find((e) => e.sealwatch.outcome === 'dry_run' && e.process?.executable === '/tmp/sleep'),
    );
    expect(dry.message).toContain(`would SIGKILL pid ${dry.process!.pid}`);
    expect((await app.exec(['kill', '-0', String(dry.process!.pid)])).code).toBe(0);
    expect(events().some((e) => e.sealwatch.outcome === 'killed')).toBe(false);
  });

  it('with the Docker socket: docker exec into the app is a container-exec event naming its command, once', async () => {
    const { app, watcher, events } = await pod(
      'monitor',
      ['--docker-socket', '/var/run/docker.sock'],
      [{ host: '/var/run/docker.sock', container: '/var/run/docker.sock' }],
    );
    // an exec into another container (the watcher's own) is not the app's: the stream is filtered to the app
    expect((await watcher.exec(['true'])).code).toBe(0);
    expect((await app.exec(['sh', '-c', 'echo exec-seen'])).stdout).toContain('exec-seen');
    await app.execDetached(['sleep', '7']);
    // (the readiness probes of pod() are execs too: wget of /readyz)
    const execs = (): Event[] =>
      events().filter(
        (e) => e.event.action === 'container-exec' && !String(e.sealwatch.details?.command).startsWith('wget '),
      );
    await waitFor('two container-exec events', () => (execs().length >= 2 ? true : undefined));
    // exec_create and exec_start of one exec are one event; the engine's events come in order, so the
    // watcher's earlier exec, or a second event of the first exec, would be here before the second exec's
    expect(execs().map((e) => e.sealwatch.details?.command)).toEqual(['sh -c echo exec-seen', 'sleep 7']);
    const first = execs()[0]!;
    expect(first.message).toContain(app.id.slice(0, 12));
    expect(first.event.severity).toBe(3);
    // the program the exec ran is seen as a process of the pod too
    await waitFor('process-started for the exec', () =>
      events().some(
        (e) => e.event.action === 'process-started' && e.process?.name === 'sleep' && e.process.args?.[1] === '7',
      ),
    );
  });
});
