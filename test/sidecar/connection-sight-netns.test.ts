import { afterAll, beforeAll, expect, it } from 'vitest';
import { createConnectionLedger } from '../../sidecar/sources/connection-ledger.ts';
import { createConnectionSight } from '../../sidecar/sources/sight/connection-sight.ts';
import { openInNamespaceWith } from '../../sidecar/sources/sight/destroy-socket.ts';
import { loadSightNative } from '../../sidecar/sources/sight/native.ts';
import type { Observation } from '../../sidecar/sources/types.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { startContainer, useContainerCleanup, type TestContainer } from '../harness/containers.ts';
import { recordingLogger } from '../harness/logger.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * Connection sight of a container with a network namespace of its own, watched from outside it (`--container`, the
 * host agent): the socket is made inside the namespace by the native sight addon (setns: this test runs as root),
 * and without the addon the source says once why it is off and the poller goes on alone.
 */
describeDocker('connection sight in another network namespace (real Docker)', () => {
  useContainerCleanup();
  let app: TestContainer;
  let pid: number;
  beforeAll(async () => {
    app = await startContainer({
      image: await buildAppImage(),
      cmd: ['sh', '-c', '(nc -ll -p 7000 -e true &) && exec sleep 3600'],
    });
    pid = await app.hostPid();
  });
  afterAll(async () => app.remove());

  /** Connection sight of a namespace (the container's by default), its lines kept. */
  function sightOf(extra: Partial<Parameters<typeof createConnectionSight>[0]> = {}) {
    const logger = recordingLogger();
    const sight = createConnectionSight({
      procRoot: '/proc',
      anchor: () => pid,
      ledger: createConnectionLedger(),
      logger,
      ...extra,
    });
    return { logger, sight };
  }

  it("through the addon: a short connection inside the container's namespace, none of the host's", async () => {
    const load = loadSightNative();
    if (!load.ok) throw new Error(`sight addon: ${load.reason}`);
    const { logger, sight } = sightOf({ inNamespace: openInNamespaceWith(load.native) });
    try {
      sight.poll(Date.now());
      expect(sight.stats.available).toBe(true);
      expect(logger.lines.join('\n')).toContain(`/proc/${pid}/ns/net (native sight addon)`);
      await waitFor(
        'the listener',
        async () => (await app.exec(['sh', '-c', 'nc 127.0.0.1 7000 </dev/null'])).code === 0,
      );
      const seen: Observation[] = [];
      const closed = await waitFor('the closed connection', () => {
        seen.push(...sight.poll(Date.now()));
        return seen.find(
          (o) => o.type === 'connection-closed' && o.direction === 'egress' && o.socket.remotePort === 7000,
        );
      });
      expect(closed.type === 'connection-closed' && closed.socket.remoteIp).toBe('127.0.0.1');
      // the host's own connections (this machine is busy with others) are not in the container's namespace
      expect(
        seen.filter(
          (o) => o.type === 'connection-closed' && !(o.socket.remotePort === 7000 || o.socket.localPort === 7000),
        ),
      ).toEqual([]);
    } finally {
      await sight.stop!();
    }
  });

  it('without the addon: off, said once, and a metric', async () => {
    const { logger, sight } = sightOf();
    sight.poll(Date.now());
    sight.poll(Date.now());
    expect(sight.stats.available).toBe(false);
    expect(logger.lines).toEqual([
      'warn connection sight off: the container has a network namespace of its own, and opening a socket there needs the native sight addon (native/sight: run npm run build:native) and CAP_SYS_ADMIN; short connections are seen only by the socket poller',
    ]);
    expect(sight.poll(Date.now())).toEqual([]);
    await sight.stop!();
  });

  it("a target in the watcher's own namespace is refused where its connections could not be told from the host's", () => {
    const { logger, sight } = sightOf({ anchor: () => process.pid, ownNamespace: 'refused' });
    sight.poll(Date.now());
    expect(sight.stats.available).toBe(false);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain("shares the watcher's network namespace (host network)");
  });
});
