import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import type { Event } from '../../../shared/events/index.ts';
import { EnvironmentError } from '../../../shared/errors/index.ts';
import { TASK_DIR, type BundleContainer } from './bundle.ts';

/**
 * containerd as the host agent's runtime (`watch --containerd SOCKET`): where its state dir is, that it answers,
 * and how one of its containers is named on events.
 */

/**
 * The state dir of the containerd listening on `socket`: `state` when given, else the socket's own dir when it
 * holds the task dir (containerd's default: socket `/run/containerd/containerd.sock`, state `/run/containerd`).
 */
export function containerdStateDir(socket: string, state?: string): string {
  const dir = state ?? dirname(socket);
  try {
    if (statSync(join(dir, TASK_DIR)).isDirectory()) return dir;
  } catch {
    // not there: said below
  }
  throw new EnvironmentError(
    'NOT_FOUND',
    state === undefined
      ? `containerd: no ${TASK_DIR} beside ${socket}; give containerd's state dir (its config's \`state\`) with --containerd-state DIR`
      : `containerd: ${state} holds no ${TASK_DIR} (is it containerd's state dir, with a task started since containerd began?)`,
  );
}

/** Connects to containerd's socket once: it exists and something listens on it (exit 3 otherwise). */
export async function pingContainerd(socket: string, timeoutMs = 5_000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(socket);
    const timer = setTimeout(() => s.destroy(new Error('no answer')), timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    });
    s.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new EnvironmentError(
          error.code === 'EACCES' ? 'PERMISSION_DENIED' : 'DOCKER_UNREACHABLE',
          `containerd at ${socket} does not answer (${error.code ?? error.message})`,
          { cause: error },
        ),
      );
    });
  });
}

/**
 * How a containerd container is named on events: `container.name` is the kubelet's container name (the id's
 * first 12 characters without one), `container.image.name` the image the CRI names, and the orchestrator fields
 * the pod's namespace and name, as for any Kubernetes target (`orchestrator.type` kubernetes, resource pod).
 */
export function containerdIdentity(c: BundleContainer): {
  name: string;
  image: string;
  orchestrator?: NonNullable<Event['orchestrator']>;
} {
  const pod = c.pod;
  return {
    name: c.containerName ?? c.id.slice(0, 12),
    image: c.image ?? '',
    ...(pod?.name !== undefined || pod?.namespace !== undefined
      ? {
          orchestrator: {
            type: 'kubernetes',
            ...(pod.namespace !== undefined ? { namespace: pod.namespace } : {}),
            resource: { type: 'pod', ...(pod.name !== undefined ? { name: pod.name } : {}) },
          },
        }
      : {}),
  };
}
