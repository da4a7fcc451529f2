import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildSidecarImage, REPO_ROOT } from '../../deploy/image/build-image.ts';
import { startContainer, useContainerCleanup } from '../harness/containers.ts';
import { describeDocker } from '../harness/docker.ts';
import { run, runOk } from '../harness/exec.ts';
import { buildAppImage, buildNodeBaseImage } from '../harness/images.ts';
import { rsyslogAvailable, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * deploy/swarm/docker-stack.yml as shipped, deployed with `docker stack deploy` on a real single-node swarm of the
 * shared engine, with only its documented variables (SEALWATCH_IMAGE, SIEM_URL): the global agent watches a
 * container started beside it, and a shell in that container reaches a real rsyslog receiver as an alert.
 *
 * The engine is shared with every other test: swarm init/leave happen under an exclusive lock (flock on a file in
 * the temp dir), the swarm is left only when this test made it, and the networks it created go with it.
 */
const LOCK = join(tmpdir(), 'sealwatch-swarm.lock');

/** Holds an exclusive flock(1) on LOCK until `release()`: flock runs `cat`, which ends when its stdin closes. */
async function acquireLock(): Promise<{ release(): Promise<void> }> {
  const holder: ChildProcess = spawn('flock', ['--exclusive', LOCK, 'sh', '-c', 'echo locked; exec cat'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`flock exited ${code} before locking`)));
    holder.stdout!.once('data', () => resolve());
  });
  return {
    release: () =>
      new Promise<void>((resolve) => {
        holder.removeAllListeners('exit');
        if (holder.exitCode !== null) return resolve();
        holder.once('exit', () => resolve());
        holder.stdin!.end();
      }),
  };
}

const networkNames = async (): Promise<Set<string>> =>
  new Set((await runOk('docker', ['network', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean));

describeDocker('Swarm stack as shipped, on a real single-node swarm', () => {
  useContainerCleanup();
  const stack = `swtest${randomBytes(4).toString('hex')}`;
  let lock: { release(): Promise<void> } | undefined;
  let madeSwarm = false;
  let networksBefore = new Set<string>();
  let receiver: RsyslogReceiver | undefined;
  let appImage = '';

  beforeAll(async () => {
    if (!rsyslogAvailable()) throw new Error('rsyslogd is missing: apt-get install rsyslog (see .ci/run)');
    const [sidecar, app] = await Promise.all([
      buildNodeBaseImage().then((nodeBase) => buildSidecarImage({ nodeBase })),
      buildAppImage({ cmd: ['sleep', '3600'] }),
    ]);
    appImage = app;
    receiver = await startRsyslog();
    lock = await acquireLock();
    networksBefore = await networkNames();
    const state = (await runOk('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim();
    if (state === 'inactive') {
      await runOk('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
      madeSwarm = true;
    } else if (state !== 'active') {
      throw new Error(`the engine's swarm is ${state}: neither inactive nor active`);
    }
    const deploy = await run(
      'docker',
      ['stack', 'deploy', '--resolve-image', 'never', '-c', `${REPO_ROOT}deploy/swarm/docker-stack.yml`, stack],
      {
        env: {
          ...process.env,
          SEALWATCH_IMAGE: sidecar,
          SIEM_URL: `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`,
        },
      },
    );
    expect(deploy.code, deploy.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    try {
      await run('docker', ['stack', 'rm', stack]);
      // the service's containers go first, then its volume can
      await waitFor(
        'the stack containers removed',
        async () =>
          (await runOk('docker', ['ps', '-aq', '--filter', `label=com.docker.stack.namespace=${stack}`])).trim() === '',
        60_000,
      ).catch(() => undefined);
      await run('docker', ['volume', 'rm', `${stack}_spool`]);
      if (madeSwarm) {
        await run('docker', ['swarm', 'leave', '--force']);
        // swarm init made these; the engine is left as it was found
        for (const name of await networkNames()) {
          if (!networksBefore.has(name) && ['docker_gwbridge', 'ingress'].includes(name)) {
            await run('docker', ['network', 'rm', name]);
          }
        }
      }
    } finally {
      await lock?.release();
      await receiver?.stop();
    }
  }, 120_000);

  it('the global agent runs on the node, on the host network, reading the host /proc', async () => {
    const service = `${stack}_agent`;
    await waitFor(
      'the agent task running',
      async () =>
        (await runOk('docker', ['service', 'ps', service, '--format', '{{.CurrentState}}'])).includes('Running'),
      120_000,
    );
    const mode = JSON.parse(
      await runOk('docker', ['service', 'inspect', '--format', '{{json .Spec.Mode}}', service]),
    ) as Record<string, unknown>;
    expect(Object.keys(mode)).toEqual(['Global']);
    // and it stays up: no task of the service failed
    const states = await runOk('docker', ['service', 'ps', service, '--format', '{{.CurrentState}} {{.Error}}']);
    expect(states).not.toMatch(/Failed|Rejected|non-zero exit/);
  }, 150_000);

  it('watches a container started beside it and reports its shell as an alert', async () => {
    const app = await startContainer({ image: appImage, cmd: ['sleep', '3600'], network: 'none' });
    // The agent finds the new container through the engine's events; until it does, a shell goes unseen: retry.
    const [alert] = await waitFor(
      'a terminal-shell alert from the agent',
      async () => {
        await run('docker', ['exec', '-t', app.id, 'sh', '-c', 'sleep 1; echo swarm-shell']);
        const hits = receiver!
          .messages()
          .filter((m) => m.parsed.cef?.SignatureID === 'terminal-shell' && m.rawmsg.includes('swarm-shell'));
        return hits.length > 0 ? hits : undefined;
      },
      120_000,
    );
    expect(alert!.rawmsg).toContain('CEF:0|sealwatch|sealwatch|');
    // the event names the container it came from
    expect(alert!.rawmsg).toContain(app.id.slice(0, 12));
  }, 150_000);
});
