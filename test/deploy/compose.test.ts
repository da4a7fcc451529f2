import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSidecarImage, REPO_ROOT } from '../../deploy/image/build-image.ts';
import { describeDocker } from '../harness/docker.ts';
import { run, runOk } from '../harness/exec.ts';
import { buildAppImage, buildNodeBaseImage } from '../harness/images.ts';
import { rsyslogAvailable, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';

/**
 * deploy/compose/docker-compose.yml, brought up by Debian's docker-compose (v1.29) against the real engine:
 * the app, the sealwatch sidecar in its PID and network namespaces, and a real rsyslog receiver on the host
 * loopback (the app uses the host network here: no bridge on this machine). A shell started in the app must
 * arrive at rsyslog as a CEF event that rsyslog's own CEF parser reads.
 */
describeDocker('compose example: app + sidecar + rsyslog receiver', () => {
  const project = `swtest${randomBytes(4).toString('hex')}`;
  const files = [
    '-f',
    `${REPO_ROOT}deploy/compose/docker-compose.yml`,
    '-f',
    `${REPO_ROOT}test/deploy/compose.override.yml`,
  ];
  let receiver: RsyslogReceiver | undefined;
  let env: NodeJS.ProcessEnv = {};
  const compose = (...args: string[]) => run('docker-compose', ['-p', project, ...files, ...args], { env });

  beforeAll(async () => {
    if (!rsyslogAvailable()) throw new Error('rsyslogd is missing: apt-get install rsyslog (see .ci/run)');
    const [app, sidecar] = await Promise.all([
      buildAppImage({ cmd: ['sleep', '3600'] }),
      buildNodeBaseImage().then((nodeBase) => buildSidecarImage({ nodeBase })),
    ]);
    receiver = await startRsyslog();
    env = {
      ...process.env,
      APP_IMAGE: app,
      SEALWATCH_IMAGE: sidecar,
      SIEM_URL: `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`,
      SEALWATCH_API_PORT: String(20000 + Math.floor(Math.random() * 20000)),
    };
    const up = await compose('up', '-d');
    expect(up.code, up.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await compose('down', '-v', '-t', '2');
    await receiver?.stop();
  });

  it('the sidecar shares the app PID namespace and its API answers on the shared loopback', async () => {
    const ps = await compose('ps', '-q');
    const [appId, sidecarId] = await Promise.all(
      ['app', 'sealwatch'].map(async (s) =>
        (await runOk('docker-compose', ['-p', project, ...files, 'ps', '-q', s], { env })).trim(),
      ),
    );
    expect(ps.stdout).toContain(appId!.slice(0, 12));
    const hostConfig = JSON.parse(
      await runOk('docker', ['inspect', '--format', '{{json .HostConfig}}', sidecarId!]),
    ) as { PidMode: string; NetworkMode: string; CapAdd: string[] };
    expect(hostConfig.PidMode).toBe(`container:${appId}`);
    expect(hostConfig.NetworkMode).toBe(`container:${appId}`);
    expect(hostConfig.CapAdd.map((c) => c.replace(/^CAP_/, '')).sort()).toEqual(['KILL', 'SYS_PTRACE']);
    // The image's own healthcheck script, run in the sidecar, reaches /readyz once the watcher ticked.
    let health = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 40 && health.code !== 0; i++) {
      health = await run('docker', [
        'exec',
        sidecarId!,
        'node',
        '/opt/sealwatch/deploy/image/healthcheck.mjs',
        '/healthz',
      ]);
      if (health.code !== 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(health.code, `healthcheck: ${health.stderr}`).toBe(0);
  });

  it('a shell started in the app reaches the receiver as CEF', async () => {
    const appId = (await runOk('docker-compose', ['-p', project, ...files, 'ps', '-q', 'app'], { env })).trim();
    // An interactive-looking shell (a terminal on stdin), the way `docker exec -it app sh` starts one.
    const shell = await run('docker', ['exec', '-t', appId, 'sh', '-c', 'sleep 1; echo compose-shell-ran']);
    expect(shell.stdout).toContain('compose-shell-ran');
    const [message] = await receiver!.waitFor(1, {
      timeoutMs: 20_000,
      filter: (m) => m.parsed.cef?.SignatureID === 'terminal-shell',
    });
    const cef = message!.parsed.cef!;
    expect(cef.DeviceVendor).toBe('sealwatch');
    expect(cef.DeviceProduct).toBe('sealwatch');
    expect(Number(cef.Severity)).toBeGreaterThanOrEqual(5);
    expect(message!.rawmsg).toContain('CEF:0|sealwatch|sealwatch|');
    expect(JSON.stringify(cef.Extensions)).toContain('compose-shell-ran');
  });
});
