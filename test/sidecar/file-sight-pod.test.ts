import { mkdtempSync, rmSync } from 'node:fs';
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
 * File sight in the pod pattern, for real: each action is one quick command in the app container (a 1 ms process the
 * /proc poller cannot read), and the watcher holds only SYS_PTRACE, KILL and DAC_READ_SEARCH. Each must raise its
 * alert once, with the fields that say what happened, and never a second alert for the same action.
 */
describeDocker('file sight in a pod (inotify through the app root, real Docker)', () => {
  useContainerCleanup();
  let app: TestContainer;
  let events: () => Event[];
  const dirs: string[] = [];
  const alerts = (rule: string, path?: string): Event[] =>
    events().filter(
      (e) =>
        e.event.kind === 'alert' &&
        e.rule?.id === rule &&
        (path === undefined || e.file?.path === path || e.process?.executable === path),
    );

  beforeAll(async () => {
    const [appImage, nodeImage] = await Promise.all([
      buildAppImage({ files: { '/home/app/.ssh/id_ed25519': { content: 'KEY\n', mode: 0o600 } } }),
      buildNodeBaseImage(),
    ]);
    ({ app, events } = await sightPod(appImage, nodeImage, 'monitor', dirs));
  }, 180_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Waits until the watcher has seen a later marker action, so nothing more of the earlier one is on its way. */
  async function settle(): Promise<void> {
    const marker = `/tmp/marker-${Math.random().toString(36).slice(2)}`;
    await app.exec(['sh', '-c', `echo > ${marker} && chmod +x ${marker}`]);
    await waitFor(`marker ${marker}`, () => alerts('executable-written', marker).length > 0);
  }

  it('cat /etc/shadow: sensitive-file-open once, "by a process that exited before it could be read"', async () => {
    expect((await app.exec(['cat', '/etc/shadow'])).code).toBe(0);
    const [alert] = await waitFor(
      'the shadow alert',
      () => alerts('sensitive-file-open', '/etc/shadow').length > 0 && alerts('sensitive-file-open', '/etc/shadow'),
    );
    expect(alert!.message).toContain('/etc/shadow');
    expect(alert!.sealwatch.details?.seen_by).toBe('file-sight');
    // a 1 ms cat is gone before any read: said so, no PID made up
    if (alert!.process?.pid === undefined) expect(alert!.message).toMatch(/exited before it could be read/);
    await settle();
    expect(alerts('sensitive-file-open', '/etc/shadow')).toHaveLength(1);
  });

  it('a read held for a second: one alert, with the process that holds the file (poller and file sight agree)', async () => {
    const key = '/etc/gshadow';
    await app.exec(['sh', '-c', `echo x > ${key}`]);
    await settle();
    const before = alerts('sensitive-file-open', key).length;
    expect((await app.exec(['sh', '-c', `exec 3<${key}; exec sleep 1`])).code).toBe(0);
    const [alert] = await waitFor('the held read', () => {
      const found = alerts('sensitive-file-open', key).slice(before);
      return found.length > 0 && found;
    });
    expect(alert!.process?.pid).toBeGreaterThan(0);
    await settle();
    expect(alerts('sensitive-file-open', key).slice(before)).toHaveLength(1);
  });

  it("another user's 0600 SSH key read once (DAC_READ_SEARCH lets the watch be added)", async () => {
    expect((await app.exec(['cat', '/home/app/.ssh/id_ed25519'])).code).toBe(0);
    await waitFor('the key alert', () => alerts('sensitive-file-open', '/home/app/.ssh/id_ed25519').length > 0);
    await settle();
    expect(alerts('sensitive-file-open', '/home/app/.ssh/id_ed25519')).toHaveLength(1);
  });

  it('echo x >> /etc/passwd: write-below-system-dir once', async () => {
    expect((await app.exec(['sh', '-c', 'echo x >> /etc/passwd'])).code).toBe(0);
    const [alert] = await waitFor(
      'the passwd alert',
      () =>
        alerts('write-below-system-dir', '/etc/passwd').length > 0 && alerts('write-below-system-dir', '/etc/passwd'),
    );
    expect(alert!.sealwatch.details?.write).toBe(true);
    expect(alert!.message).toContain('/etc/passwd');
    await settle();
    expect(alerts('write-below-system-dir', '/etc/passwd')).toHaveLength(1);
  });

  it('a script dropped in /tmp and run once: executable-written when written, exec-from-tmp when run, once each', async () => {
    const script = '/tmp/dropped.sh';
    const r = await app.exec([
      'sh',
      '-c',
      `printf '#!/bin/sh\\nexit 0\\n' > ${script} && chmod +x ${script} && ${script}`,
    ]);
    expect(r.code).toBe(0);
    const [written] = await waitFor(
      'executable-written',
      () => alerts('executable-written', script).length > 0 && alerts('executable-written', script),
    );
    expect(written!.file?.path).toBe(script);
    expect(written!.message).toMatch(/written at runtime/);
    await waitFor('exec-from-tmp', () => alerts('exec-from-tmp', script).length > 0);
    await settle();
    expect(alerts('executable-written', script)).toHaveLength(1);
    expect(alerts('exec-from-tmp', script).map((e) => e.message)).toHaveLength(1);
    // written before it ran: the drift alert comes first
    const order = events().filter(
      (e) => e.event.kind === 'alert' && (e.file?.path === script || e.process?.executable === script),
    );
    expect(order[0]!.rule?.id).toBe('executable-written');
  });

  it('a renamed busybox copy run once: drift alert, then "ran" with its path; no second alert', async () => {
    const copy = '/tmp/true';
    expect((await app.exec(['sh', '-c', `cp /bin/busybox ${copy} && ${copy}`])).code).toBe(0);
    await waitFor('executable-written', () => alerts('executable-written', copy).length > 0);
    const [ran] = await waitFor(
      'exec-from-tmp',
      () => alerts('exec-from-tmp', copy).length > 0 && alerts('exec-from-tmp', copy),
    );
    expect(ran!.process?.executable).toBe(copy);
    await settle();
    expect(alerts('executable-written', copy)).toHaveLength(1);
    // what each alert said, when there are two: who saw it (file sight or the poller) and with which process
    const said = (e: Event): string => `${e.message} [${JSON.stringify(e.sealwatch.details ?? {})}]`;
    expect(alerts('exec-from-tmp', copy).map(said)).toHaveLength(1);
  });
});

describeDocker('file sight in a pod, enforce mode (real Docker)', () => {
  useContainerCleanup();
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the first exec of an executable dropped at runtime is killed (drift alert first, then the kill)', async () => {
    const [appImage, nodeImage] = await Promise.all([buildAppImage(), buildNodeBaseImage()]);
    const { app, events } = await sightPod(appImage, nodeImage, 'enforce', dirs);
    // one command: drop a busybox copy and run it (it would sleep 30 s)
    const run = await app.exec(['sh', '-c', 'cp /bin/busybox /tmp/sleep && exec /tmp/sleep 30']);
    expect(run.code).toBe(137); // SIGKILL
    const killed = await waitFor('the kill', () =>
      events().find((e) => e.event.action === 'process-killed' && e.process?.executable === '/tmp/sleep'),
    );
    const drift = events().find((e) => e.rule?.id === 'executable-written' && e.file?.path === '/tmp/sleep');
    expect(drift).toBeDefined();
    expect(Date.parse(drift!['@timestamp'])).toBeLessThanOrEqual(Date.parse(killed['@timestamp']));
  });
});

/**
 * The app and the watcher in its PID and network namespaces, holding only SYS_PTRACE, KILL and DAC_READ_SEARCH (as
 * root), ready (its API answers) and watching (file sight's watches on /metrics).
 */
async function sightPod(
  appImage: string,
  nodeImage: string,
  mode: 'monitor' | 'enforce',
  dirs: string[],
): Promise<{ app: TestContainer; events: () => Event[] }> {
  const out = mkdtempSync(join(tmpdir(), `sw-sight-${mode}-`));
  dirs.push(out);
  const app = await startContainer({ image: appImage, cmd: ['sleep', '3600'] });
  const { events } = await startWatcherInPod(app, {
    nodeImage,
    out,
    args: ['--mode', mode],
    capDrop: ['ALL'],
    capAdd: ['SYS_PTRACE', 'KILL', 'DAC_READ_SEARCH'],
  });
  await waitFor('/readyz', async () => {
    const r = await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/readyz']);
    return r.code === 0 && r.stdout.includes('"ready":true') ? true : undefined;
  });
  await waitFor('file sight watching', async () => {
    const r = await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/metrics']);
    return /sealwatch_sight_watches\{class="sensitive"\} [1-9]/.test(r.stdout) || undefined;
  });
  return { app, events };
}
