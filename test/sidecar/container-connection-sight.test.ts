import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startContainer, useContainerCleanup } from '../harness/containers.ts';
import { describeDocker } from '../harness/docker.ts';
import { runOk } from '../harness/exec.ts';
import { buildAppImage } from '../harness/images.ts';
import { freePort } from '../harness/net.ts';
import { readEventsFile, waitFor } from '../harness/wait.ts';

/**
 * `watch --container` of a container with a network namespace of its own (`--network none`), from the host: connection
 * sight opens its socket inside that namespace through the sight addon (this test runs as root: CAP_SYS_ADMIN), so a
 * connection of a few milliseconds to a Kubernetes API port on the container's loopback is an alert, once, naming
 * the container; none of the host's connections is reported as the container's. Restarted, the container has a new
 * network namespace, and the socket is made again there.
 */
const CLI = resolve(import.meta.dirname, '../../dist/cli.mjs');

describeDocker('connection sight in watch --container (real Docker engine, the sight addon)', () => {
  useContainerCleanup();
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a quick connection to port 6443 inside the container: kubernetes-api-access, once; again after a restart', async () => {
    const app = await startContainer({
      image: await buildAppImage(),
      cmd: ['sh', '-c', '(nc -ll -p 6443 -e true &) && exec sleep 3600'],
    });
    const out = mkdtempSync(join(tmpdir(), 'sw-container-net-'));
    dirs.push(out);
    const file = join(out, 'events.jsonl');
    const port = await freePort();
    const watcher = spawn(
      process.execPath,
      [
        CLI,
        'watch',
        '--container',
        app.name,
        '--emit',
        'all',
        '--output',
        `file://${file}`,
        '--listen',
        `127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(watcher);
    let stderr = '';
    watcher.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(`connection sight on (${stderr})`, () => stderr.includes('connection sight on'));
    expect(stderr).toContain('(native sight addon)');
    const events = () => readEventsFile(file);
    await waitFor('the listener', () =>
      events().some((e) => e.event.action === 'connection-listening' && e.source?.port === 6443),
    );
    expect((await app.exec(['sh', '-c', 'nc 127.0.0.1 6443 </dev/null'])).code).toBe(0);
    const alert = await waitFor('the alert', () =>
      events().find((e) => e.event.kind === 'alert' && e.rule?.id === 'kubernetes-api-access'),
    );
    expect(alert.event.action).toBe('connection-closed');
    expect(alert.destination).toEqual({ ip: '127.0.0.1', port: 6443 });
    expect(alert.container?.name).toBe(app.name);
    // a later connection, once reported, means every notification before it was read
    await app.exec(['sh', '-c', 'nc 127.0.0.1 6443 </dev/null']);
    await waitFor(
      'the second connection',
      () =>
        events().filter(
          (e) =>
            e.event.kind === 'event' && e.event.action === 'connection-closed' && e.network?.direction === 'egress',
        ).length >= 2,
    );
    const closed = events().filter((e) => e.event.kind === 'event' && e.event.action === 'connection-closed');
    // only the container's own: its two connections, each seen from both ends at most
    expect(closed.every((e) => e.source?.port === 6443 || e.destination?.port === 6443)).toBe(true);
    const first = closed.filter((e) => e.source?.port === alert.source?.port && e.network?.direction === 'egress');
    expect(first).toHaveLength(1);
    // restarted, the container has a new init and a new network namespace: the socket is made again there
    await runOk('docker', ['restart', '-t', '1', app.id]);
    await waitFor('the socket in the new namespace', () => stderr.split('connection sight on').length > 2);
    await waitFor(
      'the listener after the restart',
      async () => (await app.exec(['sh', '-c', 'nc 127.0.0.1 6443 </dev/null'])).code === 0,
    );
    await waitFor('an alert after the restart', () =>
      events().find(
        (e) =>
          e.event.kind === 'alert' && e.rule?.id === 'kubernetes-api-access' && e.source?.port !== alert.source?.port,
      ),
    );
    watcher.kill('SIGTERM');
    await new Promise((r) => watcher.once('exit', r));
  });
});
