import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCliCaptured } from '../harness/cli.ts';
import { startContainer, useContainerCleanup } from '../harness/containers.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { freePort } from '../harness/net.ts';
import { waitFor, readEventsFile } from '../harness/wait.ts';

/**
 * `--container` mode on the host, against the real engine: Docker events of the container reach the
 * pipeline (an exec names its command), and `learn --container` writes the profile of what ran.
 */
const CLI = resolve(import.meta.dirname, '../../dist/cli.mjs');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeDocker('watch and learn --container (real Docker engine)', () => {
  useContainerCleanup();
  let image: string;
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    image = await buildAppImage();
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('docker exec into the container is an event naming the command', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sw-container-watch-'));
    dirs.push(out);
    const app = await startContainer({ image, cmd: ['sleep', '3600'] });
    const port = await freePort();
    const file = join(out, 'events.jsonl');
    const watcher = spawn(
      process.execPath,
      [CLI, 'watch', '--container', app.name, '--output', `file://${file}`, '--listen', `127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(watcher);
    let stderr = '';
    watcher.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(`the watcher's first tick (${stderr})`, async () => {
      const s = (await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json()) as { ticks: number };
      return s.ticks > 0 ? true : undefined;
    });
    const r = await app.exec(['sh', '-c', 'id']);
    expect(r.code).toBe(0);
    const exec = await waitFor('container-exec event', () =>
      readEventsFile(file).find((e) => e.event.action === 'container-exec'),
    );
    expect(exec.sealwatch.details?.command).toBe('sh -c id');
    expect(exec.container?.name).toBe(app.name);
    expect(exec.message).toContain('sh -c id');
    const exited = new Promise((res) => watcher.once('exit', res));
    watcher.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('learn --container writes the profile of what ran in the container', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sw-container-learn-'));
    dirs.push(out);
    const app = await startContainer({ image, cmd: ['sleep', '3600'] });
    const learning = runCliCaptured(
      ['learn', '--container', app.id, '--duration', '4s', '--tick', '50', '--out', 'learned.yaml'],
      { cwd: out },
    );
    await sleep(800);
    await app.execDetached(['sh', '-c', 'sleep 30 | nc -l -p 9100']);
    await app.execDetached(['cat'], {});
    const res = await learning;
    expect(res.code, res.stderr).toBe(0);
    const profile = parse(readFileSync(join(out, 'learned.yaml'), 'utf8')) as {
      kind: string;
      processes: { exe: string; name?: string }[];
      network: { listen: { port: number; protocol: string }[] };
    };
    expect(profile.kind).toBe('Profile');
    const names = profile.processes.filter((p) => p.exe === '/bin/busybox').map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['sleep', 'nc']));
    expect(profile.network.listen).toContainEqual({ port: 9100, protocol: 'tcp' });
  });
});
