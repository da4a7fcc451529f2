import { lstatSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Event } from '../../shared/events/index.ts';
import { startInPod, type ContainerSpec, type TestContainer } from '../harness/containers.ts';
import { readEventsFile } from '../harness/wait.ts';

const REPO = resolve(import.meta.dirname, '../..');

/**
 * The watcher of this checkout (dist/cli.mjs, mounted read-only) in a Node base container that shares the
 * app's PID and network namespaces (the pod pattern), writing every event to OUT/events.jsonl and serving
 * its API on the pod's loopback at 127.0.0.1:9464. OUT is mounted at /out; `args` are the watch flags.
 */
export async function startWatcherInPod(
  app: TestContainer,
  options: {
    nodeImage: string;
    out: string;
    args: string[];
    mounts?: ContainerSpec['mounts'];
    /** e.g. SYS_PTRACE, as a pod's sidecar has it (needed when the app holds a capability the watcher lacks) */
    capAdd?: string[];
    /** e.g. ['ALL'] with `capAdd`: the sidecar holds only those (it then runs as uid 0, as deploy/ runs it) */
    capDrop?: string[];
  },
): Promise<{ watcher: TestContainer; events: () => Event[] }> {
  const watcher = await startInPod(app, {
    image: options.nodeImage,
    capAdd: options.capAdd,
    capDrop: options.capDrop,
    ...(options.capDrop ? { user: '0:0' } : {}),
    cmd: [
      'node',
      '/repo/dist/cli.mjs',
      'watch',
      '--emit',
      'all',
      '--output',
      'file:///out/events.jsonl',
      '--listen',
      '127.0.0.1:9464',
      ...options.args,
    ],
    mounts: [
      { host: REPO, container: '/repo', readonly: true },
      ...linkedModules(),
      { host: options.out, container: '/out' },
      ...(options.mounts ?? []),
    ],
  });
  return { watcher, events: () => readEventsFile(join(options.out, 'events.jsonl')) };
}

/**
 * A checkout whose node_modules is a link (a git worktree sharing another checkout's packages): the link's target,
 * mounted where the link points, so dist/cli.mjs finds its packages inside the container too.
 */
function linkedModules(): NonNullable<ContainerSpec['mounts']> {
  const link = join(REPO, 'node_modules');
  try {
    if (!lstatSync(link).isSymbolicLink()) return [];
    const target = realpathSync(link);
    return [{ host: target, container: target, readonly: true }];
  } catch {
    return [];
  }
}
