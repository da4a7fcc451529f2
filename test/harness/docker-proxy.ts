import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Unix-socket relay in front of the real engine's socket (`/var/run/docker.sock`): every request goes to
 * the real engine; `cut()` drops the open connections, which is what a client sees when the engine restarts
 * or the connection breaks (restarting the shared engine itself would disturb every other test).
 */
export async function startDockerProxy(engineSocket = '/var/run/docker.sock'): Promise<{
  socketPath: string;
  /** drops every open connection (both sides); new connections still reach the engine */
  cut(): void;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-docker-proxy-'));
  const socketPath = join(dir, 'docker.sock');
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const engine = createConnection(engineSocket);
    for (const s of [client, engine]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => engine.destroy());
    engine.on('close', () => client.destroy());
    client.pipe(engine).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    socketPath,
    cut() {
      for (const s of open) s.destroy();
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
