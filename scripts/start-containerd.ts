/**
 * A containerd of its own beside the Docker engine's, for trying the host agent on containerd by hand (the
 * tests start theirs through the same harness): config, root, state and sockets under one temp dir.
 *
 *   npx tsx scripts/start-containerd.ts [--image DOCKER_IMAGE [--pod NAME] [--namespace NS]]
 *
 * Prints one JSON line ({socket, state, pid, containers}) and runs until SIGINT/SIGTERM, then kills its
 * containers, stops containerd and removes the dir. With --image, the image is imported from the Docker engine
 * and one pod is started the way the kubelet would: a sandbox and an `app` container sharing its PID namespace,
 * with the kubelet's labels and CRI annotations. A run killed without cleaning up is cleaned by the next one.
 */
import { parseArgs } from 'node:util';
import { startContainerd } from '../test/harness/containerd.ts';

const { values } = parseArgs({
  options: {
    image: { type: 'string' },
    pod: { type: 'string', default: 'demo' },
    namespace: { type: 'string', default: 'default' },
  },
});

const containerd = await startContainerd();
const containers: { id: string; pid: number; name: string }[] = [];
if (values.image) {
  const image = await containerd.importImage(values.image);
  const pod = { name: values.pod, namespace: values.namespace, uid: crypto.randomUUID() };
  const sandbox = await containerd.run({ image, cmd: ['sleep', '86400'], pod, name: 'POD', type: 'sandbox' });
  const app = await containerd.run({ image, cmd: ['sleep', '86400'], pod, name: 'app', sharePidWith: sandbox });
  containers.push({ id: sandbox.id, pid: sandbox.pid, name: 'POD' }, { id: app.id, pid: app.pid, name: 'app' });
}
process.stdout.write(
  `${JSON.stringify({ socket: containerd.socket, state: containerd.state, pid: containerd.pid, containers })}\n`,
);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await containerd.stop();
