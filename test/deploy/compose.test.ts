import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSidecarImage, REPO_ROOT } from '../../deploy/image/build-image.ts';
import { describeDocker } from '../harness/docker.ts';
import { run, runOk } from '../harness/exec.ts';
import { buildAppImage, buildNodeBaseImage } from '../harness/images.ts';
import { freePort } from '../harness/net.ts';
import { rsyslogAvailable, startRsyslog, type ReceivedMessage, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { cli, makeKeyFiles, removeTags, testTag } from '../harness/seal.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * deploy/compose/docker-compose.yml exactly as shipped, brought up by Debian's docker-compose (v1.29) against the
 * real engine with only its documented variables: an app image sealed by `sealwatch seal` (with a profile), its
 * public key, the sidecar image, a real rsyslog receiver on the host loopback. APP_NETWORK_MODE=host because these
 * machines have no bridge network; which is also the case where the host's other listeners must not be judged.
 */
const PROFILE = (appPort: number): string => `apiVersion: sealwatch.dev/v1
kind: Profile
processes:
  - { exe: /bin/busybox, name: sleep }
  - { exe: /bin/busybox, name: sh }
  - { exe: /bin/busybox, name: httpd }
network:
  listen: []
# the app listens on ${appPort}, which this profile does not declare
`;

describeDocker('compose example as shipped: sealed app + sidecar + rsyslog, through a SIEM outage', () => {
  const project = `swtest${randomBytes(4).toString('hex')}`;
  const files = ['-f', `${REPO_ROOT}deploy/compose/docker-compose.yml`];
  const tags: string[] = [];
  const keys = makeKeyFiles();
  let work = '';
  let receiver: RsyslogReceiver | undefined;
  let env: NodeJS.ProcessEnv = {};
  let apiPort = 0;
  let appPort = 0;
  const compose = (...args: string[]) => run('docker-compose', ['-p', project, ...files, ...args], { env });
  const serviceId = async (service: string) => (await compose('ps', '-q', service)).stdout.trim();
  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`http://127.0.0.1:${apiPort}${path}`);
    return { status: response.status, body: (await response.json()) as T };
  };
  const cefOf = (m: ReceivedMessage) => m.parsed.cef;

  beforeAll(async () => {
    if (!rsyslogAvailable()) throw new Error('rsyslogd is missing: apt-get install rsyslog (see .ci/run)');
    work = mkdtempSync(join(tmpdir(), 'sw-compose-'));
    [appPort, apiPort] = await Promise.all([freePort(), freePort()]);
    const [base, sidecar] = await Promise.all([
      buildAppImage({ cmd: ['sh', '-c', `httpd -p 127.0.0.1:${appPort}; sleep 3600`] }),
      buildNodeBaseImage().then((nodeBase) => buildSidecarImage({ nodeBase })),
    ]);
    writeFileSync(join(work, 'profile.yaml'), PROFILE(appPort));
    const sealed = testTag(tags, 'compose');
    const seal = await cli(
      ['seal', '--image', base, '--key', keys.keyPath, '--profile', 'profile.yaml', '--tag', sealed],
      work,
    );
    expect(seal.code, seal.err).toBe(0);
    receiver = await startRsyslog();
    env = {
      ...process.env,
      APP_IMAGE: sealed,
      SEALWATCH_IMAGE: sidecar,
      SEALWATCH_PUB_FILE: keys.pubPath,
      SIEM_URL: `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`,
      SEALWATCH_API_PORT: String(apiPort),
      APP_NETWORK_MODE: 'host',
    };
    const up = await compose('up', '-d');
    expect(up.code, up.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await compose('down', '-v', '-t', '2');
    await receiver?.stop();
    await removeTags(tags);
    rmSync(work, { recursive: true, force: true });
    rmSync(keys.dir, { recursive: true, force: true });
  });

  it('the sidecar shares the app namespaces, with the key mounted and a writable spool volume', async () => {
    const [appId, sidecarId] = await Promise.all([serviceId('app'), serviceId('sealwatch')]);
    const inspect = JSON.parse(await runOk('docker', ['inspect', sidecarId])) as [
      {
        HostConfig: { PidMode: string; NetworkMode: string; CapAdd: string[]; ReadonlyRootfs: boolean };
        Mounts: { Type: string; Destination: string; RW: boolean }[];
      },
    ];
    const { HostConfig: hostConfig, Mounts: mounts } = inspect[0];
    expect(hostConfig.PidMode).toBe(`container:${appId}`);
    expect(hostConfig.NetworkMode).toBe(`container:${appId}`);
    expect(hostConfig.ReadonlyRootfs).toBe(true);
    expect(hostConfig.CapAdd.map((c) => c.replace(/^CAP_/, '')).sort()).toEqual(['KILL', 'SYS_PTRACE']);
    expect(mounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Type: 'volume', Destination: '/var/lib/sealwatch/spool', RW: true }),
        expect.objectContaining({ Type: 'bind', Destination: '/etc/sealwatch/sealwatch.pub', RW: false }),
      ]),
    );
  });

  it('the seal is verified, its profile loaded, and /readyz says ready', async () => {
    const ready = await waitFor('/readyz 200', async () => {
      const r = await api<{ ready: boolean; profileLoaded: boolean }>('/readyz');
      return r.status === 200 ? r.body : undefined;
    });
    expect(ready).toMatchObject({ ready: true, profileLoaded: true });
    const status = await api<{ seal?: { status: string }; profileSource?: string }>('/v1/status');
    expect(status.body.seal?.status).toBe('verified');
    // the spool is on the volume: no "events wait in memory only"
    const logs = await compose('logs', '--no-color', 'sealwatch');
    expect(logs.stdout + logs.stderr).not.toMatch(/memory only|EROFS|not checked/);
  });

  it("the app's undeclared listener is reported, and none of the host's other listeners", async () => {
    await receiver!.waitFor(1, {
      timeoutMs: 30_000,
      filter: (m) => cefOf(m)?.SignatureID === 'profile.listen-not-declared' && m.rawmsg.includes(String(appPort)),
    });
    const others = receiver!
      .messages()
      .filter((m) => cefOf(m)?.SignatureID === 'profile.listen-not-declared' && !m.rawmsg.includes(String(appPort)));
    // the receiver's own port, sshd, other tests' servers: all on this host's network, none of them the app's
    expect(others.map((m) => m.rawmsg)).toEqual([]);
  });

  it('events raised while the SIEM is down wait in the spool volume, survive a sidecar restart, and arrive', async () => {
    const appId = await serviceId('app');
    // a shell started in the app, as `docker exec -it app sh` would: terminal-shell alerts
    const shell = async (marker: string) =>
      (await run('docker', ['exec', '-t', appId, 'sh', '-c', `sleep 1; echo ${marker}`])).stdout;
    expect(await shell('before-outage')).toContain('before-outage');
    await receiver!.waitFor(1, {
      timeoutMs: 30_000,
      filter: (m) => cefOf(m)?.SignatureID === 'terminal-shell' && m.rawmsg.includes('before-outage'),
    });

    await receiver!.stop();
    expect(await shell('during-outage')).toContain('during-outage');
    type Status = { outputs: { spoolBytes: number; queued: number }[] };
    await waitFor(
      'the alert in the spool',
      async () => {
        const s = (await api<Status>('/v1/status')).body;
        return s.outputs.some((o) => o.spoolBytes > 0);
      },
      60_000,
    );
    // the sidecar restarts with the SIEM still down: what was spooled is on the volume, not in its memory
    const restart = await compose('restart', '-t', '10', 'sealwatch');
    expect(restart.code, restart.stderr).toBe(0);
    await waitFor('the restarted sidecar answering', async () => (await api('/healthz')).status === 200, 60_000);

    await receiver!.restart();
    const [arrived] = await receiver!.waitFor(1, {
      timeoutMs: 60_000,
      filter: (m) => cefOf(m)?.SignatureID === 'terminal-shell' && m.rawmsg.includes('during-outage'),
    });
    expect(arrived!.rawmsg).toContain('CEF:0|sealwatch|sealwatch|');
  });
});
