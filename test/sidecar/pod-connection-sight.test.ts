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
 * Connection sight in the pod pattern, for real: the app (busybox, `--network none --cap-add NET_ADMIN`) puts
 * 198.51.100.7 and 169.254.169.254 on its own loopback with listeners there (no packet leaves its namespace), and
 * connects to them in one quick command each; the watcher shares its PID and network namespaces. A connection of a
 * few milliseconds is never in a socket table the poller reads: the kernel's destroy notification tells it. One the
 * poller saw open is not reported again when it closes. The watcher holds SYS_PTRACE and KILL only.
 */
const PROFILE = `apiVersion: sealwatch.dev/v1
kind: Profile
processes:
  - { exe: /bin/busybox }
network:
  listen:
    - { port: 5432, protocol: tcp }
    - { port: 5433, protocol: tcp }
    - { port: 80, protocol: tcp }
  egress: []
`;

// `-e true`: the server end closes at once; `-e cat`: it echoes until the client closes its side
const APP = [
  'ip addr add 198.51.100.7/32 dev lo',
  'ip addr add 169.254.169.254/32 dev lo',
  '(nc -ll -p 5432 -e true &)',
  '(nc -ll -p 80 -e true &)',
  '(nc -ll -p 5433 -e cat &)',
  'exec sleep 3600',
].join(' && ');

describeDocker('connection sight in a pod (real Docker, the app own loopback)', () => {
  useContainerCleanup();
  let app: TestContainer;
  let events: () => Event[];
  const out = mkdtempSync(join(tmpdir(), 'sw-pod-net-'));
  beforeAll(async () => {
    const [appImage, nodeImage] = await Promise.all([buildAppImage(), buildNodeBaseImage()]);
    writeFileSync(join(out, 'profile.yaml'), PROFILE);
    app = await startContainer({ image: appImage, cmd: ['sh', '-c', APP], capAdd: ['NET_ADMIN'] });
    ({ events } = await startWatcherInPod(app, {
      nodeImage,
      out,
      args: ['--profile', '/out/profile.yaml', '--mode', 'monitor'],
      // the sidecar's capabilities and no more (connection sight needs none); the app holds NET_ADMIN, so reading
      // its processes' fds (who owns a socket) takes SYS_PTRACE
      capDrop: ['ALL'],
      capAdd: ['SYS_PTRACE', 'KILL'],
    }));
    await waitFor('/readyz', async () => {
      const r = await app.exec(['wget', '-qO-', 'http://127.0.0.1:9464/readyz']);
      return r.code === 0 && r.stdout.includes('"ready":true') ? true : undefined;
    });
    // the poller knows the listeners (a closed connection on one of their ports is an accepted one)
    await waitFor('the listeners', () =>
      [5432, 5433, 80].every((port) =>
        events().some((e) => e.event.action === 'connection-listening' && e.source?.port === port),
      ),
    );
  });
  afterAll(() => process.env.KEEP_OUT || rmSync(out, { recursive: true, force: true }));

  const alerts = (rule: string): Event[] => events().filter((e) => e.event.kind === 'alert' && e.rule?.id === rule);
  const closed = (port: number): Event[] =>
    events().filter(
      (e) =>
        e.event.kind === 'event' &&
        e.event.action === 'connection-closed' &&
        e.network?.direction === 'egress' &&
        e.destination?.port === port,
    );

  it('a connection of a few milliseconds to a database port: profile.egress-not-allowed, once, with what the kernel told', async () => {
    const run = await app.exec(['sh', '-c', 'nc 198.51.100.7 5432 </dev/null']);
    expect(run.code).toBe(0);
    const alert = await waitFor('the egress alert', () =>
      alerts('profile.egress-not-allowed').find((e) => e.destination?.port === 5432),
    );
    expect(alert.event.action).toBe('connection-closed');
    expect(alert.destination).toEqual({ ip: '198.51.100.7', port: 5432 });
    expect(alert.network).toMatchObject({ transport: 'tcp', direction: 'egress' });
    expect(alert.sealwatch.details).toMatchObject({
      seen_by: 'socket-destroy',
      socket_uid: 0,
      socket_user: 'root',
      process_unknown: true,
    });
    expect(alert.message).toContain('198.51.100.7:5432');
    // one observation of that connection, one alert (the accepted end is not an outbound connection)
    const clientPort = alert.source?.port;
    expect(closed(5432).filter((e) => e.source?.port === clientPort)).toHaveLength(1);
    expect(alerts('profile.egress-not-allowed').filter((e) => e.source?.port === clientPort)).toHaveLength(1);
    expect(events().filter((e) => e.event.action === 'connection-opened' && e.source?.port === clientPort)).toEqual([]);
  });

  it('a quick connection to the metadata address: cloud-metadata-access', async () => {
    await app.exec(['sh', '-c', 'nc 169.254.169.254 80 </dev/null']);
    const alert = await waitFor('the metadata alert', () => alerts('cloud-metadata-access')[0]);
    expect(alert.event.action).toBe('connection-closed');
    expect(alert.destination).toEqual({ ip: '169.254.169.254', port: 80 });
    expect(alert.event.severity).toBe(8);
    expect(alerts('cloud-metadata-access')).toHaveLength(1);
  });

  it('a connection held for a second is reported once: by the poller, with its process, not again when it closes', async () => {
    await app.exec(['sh', '-c', '(sleep 1; echo hi) | nc 198.51.100.7 5433']);
    const opened = await waitFor('the poller report', () =>
      events().find((e) => e.event.action === 'connection-opened' && e.destination?.port === 5433),
    );
    expect(opened.process?.name).toBe('nc');
    // a later quick connection, once reported, means the held one's notification was read too (in order)
    await app.exec(['sh', '-c', 'nc 198.51.100.7 5432 </dev/null']);
    await waitFor('a later connection', () => closed(5432).length >= 2);
    expect(closed(5433)).toEqual([]);
    const held = alerts('profile.egress-not-allowed').filter((e) => e.destination?.port === 5433);
    expect(held).toHaveLength(1);
    expect(held[0]!.event.action).toBe('connection-opened');
    expect(held[0]!.process?.name).toBe('nc');
  });
});
