// The workload of bench/connection-sight.bench.ts, run as a process of its own inside the bench's network namespace:
// a server on ADDRESS:PORT and clients of it.
//   burst LIFETIME:COUNT,…  one connection at a time: connect, hold LIFETIME ms, close, a random pause of 0-20 ms;
//                           prints one JSON array of { lifetime, port, connectAt, closedAt } (epoch ms) at the end
//   hold COUNT              opens COUNT connections (2 × COUNT sockets), prints "ready", holds them until stdin ends
import { createServer, connect, type Socket } from 'node:net';

const [, , command, arg, address = '198.51.100.7', portText = '5432'] = process.argv;
const port = Number(portText);
const now = (): number => performance.timeOrigin + performance.now();
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Done {
  lifetime: number;
  port: number;
  connectAt: number;
  closedAt: number;
}

async function connection(lifetime: number): Promise<Done> {
  return new Promise((resolve, reject) => {
    const c = connect(port, address);
    let connectAt = 0;
    let local = 0;
    c.on('connect', () => {
      connectAt = now();
      local = c.localPort ?? 0;
      setTimeout(() => c.end(), lifetime);
    });
    c.on('data', () => undefined);
    c.on('error', reject);
    c.on('close', () => resolve({ lifetime, port: local, connectAt, closedAt: now() }));
  });
}

const server = createServer((c) => {
  // closes once the client did: the client's end closes first, as an outbound connection of the app would
  c.resume();
  c.on('end', () => c.end());
  c.on('error', () => undefined);
});
await new Promise<void>((r) => server.listen(port, address, r));

if (command === 'burst') {
  const done: Done[] = [];
  for (const spec of (arg ?? '').split(',')) {
    const [lifetime, count] = spec.split(':').map(Number) as [number, number];
    for (let i = 0; i < count; i++) {
      done.push(await connection(lifetime));
      await pause(Math.random() * 20);
    }
  }
  console.log(JSON.stringify(done));
  server.close();
  process.exit(0);
} else if (command === 'hold') {
  const held: Socket[] = [];
  for (let i = 0; i < Number(arg); i++) {
    const c = connect(port, address);
    await new Promise((r) => c.once('connect', r));
    held.push(c);
  }
  console.log('ready');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  console.error('usage: connection-workload burst LIFETIME:COUNT,… | hold COUNT [ADDRESS PORT]');
  process.exit(2);
}
