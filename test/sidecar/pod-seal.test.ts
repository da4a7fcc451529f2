import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Event } from '../../shared/events/index.ts';
import { createDockerClient } from '../../shared/docker/index.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage, buildNodeBaseImage } from '../harness/images.ts';
import { run } from '../harness/exec.ts';
import { startContainer, useContainerCleanup, type TestContainer } from '../harness/containers.ts';
import { buildFrom, cli, makeKeyFiles, removeTags, testTag } from '../harness/seal.ts';
import { waitFor } from '../harness/wait.ts';
import { startWatcherInPod } from './pod-watcher.ts';

/**
 * The seal at runtime, for real: an app image sealed by the real `sealwatch seal` (with a profile),
 * the watcher beside it in the pod pattern with only `--pub` (no `--profile`). The profile comes from
 * the neighbour's seal read through /proc/<pid>/root, verified before use; a seal with one changed
 * byte and an unsealed image are alerts of their own.
 */
const SEALED_PROFILE = `apiVersion: sealwatch.dev/v1
kind: Profile
processes:
  - { exe: /bin/busybox, name: sleep }
  - { exe: /bin/busybox, name: sh }
  - { exe: /bin/busybox, name: cp }
network:
  listen: []
`;

/** One base64 character of the first statement's payload changed: still a well-formed bundle, a bad signature. */
function tamper(jsonl: string): string {
  const lines = jsonl.split('\n');
  const bundle = JSON.parse(lines[0]!) as { dsseEnvelope: { payload: string } };
  const payload = bundle.dsseEnvelope.payload;
  const i = Math.floor(payload.length / 2);
  bundle.dsseEnvelope.payload = payload.slice(0, i) + (payload[i] === 'A' ? 'B' : 'A') + payload.slice(i + 1);
  lines[0] = JSON.stringify(bundle);
  return lines.join('\n');
}

describeDocker('watch with the seal at runtime (real Docker pod, image sealed by sealwatch seal)', () => {
  useContainerCleanup();
  const created: string[] = [];
  const dirs: string[] = [];
  const keys = makeKeyFiles();
  let plain: string;
  let sealed: string;
  let tampered: string;
  let borrowed: string;
  let nodeImage: string;

  beforeAll(async () => {
    let base: string;
    [base, nodeImage] = await Promise.all([
      buildAppImage({ repository: 'sealwatch-test/pod-seal' }),
      buildNodeBaseImage(),
    ]);
    const work = mkdtempSync(join(tmpdir(), 'sw-pod-seal-'));
    dirs.push(work, keys.dir);
    writeFileSync(join(work, 'profile.yaml'), SEALED_PROFILE);
    // the plain image gets its own tag so sealing it never touches the harness image
    plain = testTag(created, 'pod-plain');
    await buildFrom(base, ['LABEL dev.sealwatch.test=plain'], plain);
    sealed = testTag(created, 'pod-sealed');
    const res = await cli(
      ['seal', '--image', plain, '--key', keys.keyPath, '--profile', 'profile.yaml', '--tag', sealed],
      work,
    );
    expect(res.code, res.err).toBe(0);
    const jsonl = (await createDockerClient().readImageFile(sealed, '/.sealwatch/seal.jsonl'))!.toString('utf8');
    tampered = testTag(created, 'pod-tampered');
    await buildFrom(sealed, ['COPY seal.jsonl /.sealwatch/seal.jsonl'], tampered, { 'seal.jsonl': tamper(jsonl) });
    // another image carrying the sealed image's valid seal file and seal label, byte for byte
    const label = (await createDockerClient().inspectImage(sealed)).Config?.Labels?.['dev.sealwatch.seal'];
    expect(label).toBeTruthy();
    borrowed = testTag(created, 'pod-borrowed');
    await buildFrom(
      plain,
      [`LABEL dev.sealwatch.seal=${JSON.stringify(label)}`, 'COPY seal.jsonl /.sealwatch/seal.jsonl'],
      borrowed,
      { 'seal.jsonl': jsonl },
    );
  });
  afterAll(async () => {
    await removeTags(created);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function pod(
    image: string,
    extra: string[] = [],
    mounts: { host: string; container: string; readonly?: boolean }[] = [],
  ): Promise<{ app: TestContainer; watcher: TestContainer; events: () => Event[] }> {
    const out = mkdtempSync(join(tmpdir(), 'sw-pod-seal-out-'));
    dirs.push(out);
    const app = await startContainer({ image, cmd: ['sleep', '3600'] });
    const { watcher, events } = await startWatcherInPod(app, {
      nodeImage,
      out,
      args: ['--pub', '/keys/sealwatch.pub', ...extra],
      mounts: [{ host: keys.dir, container: '/keys', readonly: true }, ...mounts],
    });
    await waitFor('seal-checked event', () => events().find((e) => e.event.action === 'seal-checked'));
    return { app, watcher, events };
  }

  const alerts = (events: Event[], rule: string) =>
    events.filter((e) => e.event.kind === 'alert' && e.rule?.id === rule);

  it('verified seal: its profile and inventory are used, and every event carries the seal', async () => {
    const { app, events } = await pod(sealed, ['--mode', 'monitor']);
    const checked = events().find((e) => e.event.action === 'seal-checked')!;
    expect(checked.sealwatch.seal?.status).toBe('verified');
    expect(checked.sealwatch.seal?.identity).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(checked.sealwatch.seal?.key_hint).toBeTruthy();

    // nc is not in the sealed profile; sleep is; /tmp/sleep is in neither the profile nor the sealed inventory
    await app.execDetached(['sh', '-c', 'sleep 30 | nc -l -p 9001']);
    await app.exec(['cp', '/bin/busybox', '/tmp/sleep']);
    await app.execDetached(['/tmp/sleep', '30']);
    await waitFor('profile and inventory alerts', () => {
      const all = events();
      return alerts(all, 'profile.exe-not-allowed').some((e) => e.process?.name === 'nc') &&
        alerts(all, 'profile.exe-not-in-inventory').some((e) => e.process?.executable === '/tmp/sleep')
        ? true
        : undefined;
    });
    const all = events();
    expect(
      alerts(all, 'profile.exe-not-allowed').some(
        (e) => e.process?.name === 'sleep' && e.process.executable === '/bin/busybox',
      ),
    ).toBe(false);
    // /bin/busybox is in the sealed inventory with the same hash: no inventory alert for it
    expect(alerts(all, 'profile.exe-not-in-inventory').some((e) => e.process?.executable === '/bin/busybox')).toBe(
      false,
    );
    expect(alerts(all, 'seal.unsealed').length + alerts(all, 'seal.invalid').length).toBe(0);
    for (const e of all) expect(e.sealwatch.seal?.status, e.event.action).toBe('verified');
    const status = await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/v1/status']);
    expect(JSON.parse(status.stdout)).toMatchObject({ profileLoaded: true, seal: { status: 'verified' } });
  });

  it('a seal with one changed byte: seal.invalid alert, the profile is not used', async () => {
    const { app, events } = await pod(tampered, ['--mode', 'monitor']);
    const invalid = await waitFor('seal.invalid', () => alerts(events(), 'seal.invalid')[0]);
    expect(invalid.sealwatch.seal?.status).toBe('invalid');
    expect(invalid.message).toMatch(/seal\.jsonl line \d+/);
    // no profile from an unverified seal: an applet outside the sealed profile raises no drift alert
    await app.execDetached(['sh', '-c', 'sleep 30 | nc -l -p 9002']);
    await waitFor('nc seen', () => alerts(events(), 'suspicious-network-tool')[0]);
    expect(alerts(events(), 'profile.exe-not-allowed')).toEqual([]);
    for (const e of events()) expect(e.sealwatch.seal?.status).toBe('invalid');
    // the profile it was meant to hold the app to is missing: not ready, and /readyz says why
    const ready = await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/readyz']);
    expect(ready.stderr).toMatch(/503/);
    const status = await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/v1/status']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      ready: false,
      profileLoaded: false,
      reason: 'no profile loaded',
    });
  });

  it("a valid seal copied into another image: verified by its signatures alone; with the Docker socket, invalid (not this image's seal)", async () => {
    const alone = await pod(borrowed, ['--mode', 'monitor']);
    const checked = alone.events().find((e) => e.event.action === 'seal-checked')!;
    expect(checked.sealwatch.seal?.status).toBe('verified');
    const withEngine = await pod(
      borrowed,
      ['--mode', 'monitor', '--docker-socket', '/var/run/docker.sock'],
      [{ host: '/var/run/docker.sock', container: '/var/run/docker.sock' }],
    );
    const invalid = await waitFor('seal.invalid', () => alerts(withEngine.events(), 'seal.invalid')[0]);
    expect(invalid.sealwatch.seal?.status).toBe('invalid');
    expect(invalid.message).toMatch(/copied from another image/);
    // its profile is not used: nc, outside the sealed profile, raises no drift alert (only the built-in rule)
    await withEngine.app.execDetached(['sh', '-c', 'sleep 30 | nc -l -p 9003']);
    await waitFor('nc seen', () => alerts(withEngine.events(), 'suspicious-network-tool')[0]);
    expect(alerts(withEngine.events(), 'profile.exe-not-allowed')).toEqual([]);
  });

  it('an unsealed image: seal.unsealed alert; in enforce mode --on-unsealed stop kills the app', async () => {
    const monitored = await pod(plain, ['--mode', 'monitor']);
    const unsealed = await waitFor('seal.unsealed', () => alerts(monitored.events(), 'seal.unsealed')[0]);
    expect(unsealed.sealwatch.seal?.status).toBe('unsealed');

    // from inside the pod, pid 1 of the namespace (the app's init) ignores SIGKILL: said, not hidden
    const inside = await pod(plain, ['--mode', 'enforce', '--on-unsealed', 'stop']);
    const failed = await waitFor('target-stop-failed', () =>
      inside.events().find((e) => e.event.action === 'target-stop-failed'),
    );
    expect(failed.sealwatch.outcome).toBe('kill_failed');
    expect(failed.message).toContain('pid 1');

    // with the Docker socket, the app container is stopped through the engine
    const { app, events } = await pod(
      plain,
      ['--mode', 'enforce', '--on-unsealed', 'stop', '--docker-socket', '/var/run/docker.sock'],
      [{ host: '/var/run/docker.sock', container: '/var/run/docker.sock' }],
    );
    const stopped = await waitFor('target-stopped', () => events().find((e) => e.event.action === 'target-stopped'));
    expect(stopped.sealwatch.outcome).toBe('killed');
    await waitFor('app container stopped', async () => {
      const r = await run('docker', ['inspect', '--format', '{{.State.Running}}', app.id]);
      return r.stdout.trim() === 'false' ? true : undefined;
    });
    // one alert from the rule, then the stop itself carries the same rule id
    expect(alerts(events(), 'seal.unsealed').map((e) => e.event.action)).toEqual(['seal-checked', 'target-stopped']);
  });
});
