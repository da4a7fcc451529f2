import { expect, it } from 'vitest';
import { buildSidecarImage } from '../../deploy/image/build-image.ts';
import { describeDocker } from '../harness/docker.ts';
import { run, runOk } from '../harness/exec.ts';
import { startContainer, startInPod, useContainerCleanup } from '../harness/containers.ts';
import { buildAppImage, buildNodeBaseImage } from '../harness/images.ts';
import { freePort } from '../harness/net.ts';
import { waitFor } from '../harness/wait.ts';

describeDocker('the sealwatch image (Dockerfile, built on the local Node base)', () => {
  useContainerCleanup();
  let image = '';

  it('builds offline from the context and runs the CLI', async () => {
    image = await buildSidecarImage({ nodeBase: await buildNodeBaseImage() });
    const help = await run('docker', ['run', '--rm', '--network', 'none', image, '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/Usage: sealwatch/);
    const version = await runOk('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'node',
      image,
      '/opt/sealwatch/bin/sealwatch.js',
      '--version',
    ]);
    const pkg = JSON.parse(await runOk('cat', ['package.json'])) as { version: string };
    expect(version.trim()).toBe(pkg.version);
  }, 300_000);

  it('runs as a non-root user, with a healthcheck on /healthz and the watch entrypoint', async () => {
    const config = JSON.parse(await runOk('docker', ['image', 'inspect', '--format', '{{json .Config}}', image])) as {
      User: string;
      Entrypoint: string[];
      Healthcheck?: { Test: string[] };
      Env: string[];
    };
    expect(config.User).toBe('10001:10001');
    expect(config.Entrypoint.slice(-1)).toEqual(['watch']);
    expect(config.Healthcheck?.Test.join(' ')).toContain('healthcheck.mjs');
    expect(config.Env).toContain('SEALWATCH_LISTEN=127.0.0.1:9464');
    const id = await runOk('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'id', image]);
    expect(id).toMatch(/^uid=10001 /);
  });

  it('carries runtime dependencies only (dev dependencies pruned) and loads the netlink addon', async () => {
    const listing = await runOk('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'node',
      image,
      '-e',
      `const fs = require('node:fs');
       require('netlink');
       console.log(JSON.stringify({ vitest: fs.existsSync('node_modules/vitest'), typescript: fs.existsSync('node_modules/typescript'),
         zod: fs.existsSync('node_modules/zod'), dockerode: fs.existsSync('node_modules/dockerode') }));`,
    ]);
    expect(JSON.parse(listing)).toEqual({ vitest: false, typescript: false, zod: true, dockerode: true });
  });

  it('the healthcheck script fails when nothing answers on SEALWATCH_LISTEN', async () => {
    const result = await run('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '--env',
      'SEALWATCH_LISTEN=127.0.0.1:1',
      '--entrypoint',
      'node',
      image,
      '/opt/sealwatch/deploy/image/healthcheck.mjs',
    ]);
    expect(result.code).toBe(1);
  });

  it('watches a harness app from the app PID namespace (the pod pattern) and writes events to stdout', async () => {
    const app = await startContainer({ image: await buildAppImage(), cmd: ['sleep', '3600'] });
    const sidecar = await startInPod(app, {
      image,
      user: '0:0',
      capAdd: ['SYS_PTRACE', 'KILL'],
      env: { SEALWATCH_OUTPUT: 'stdout://?format=json', SEALWATCH_LISTEN: '127.0.0.1:19464' },
    });
    // Ticking: the image's own healthcheck script answers (the API runs on the pod's loopback).
    await waitFor(
      "the image's healthcheck answering",
      async () => (await sidecar.exec(['node', '/opt/sealwatch/deploy/image/healthcheck.mjs', '/healthz'])).code === 0,
    );
    await app.exec(['sh', '-c', 'cp /bin/busybox /tmp/sleep && /tmp/sleep 0.5; true']);
    const logs = await waitFor('exec-from-tmp in the sidecar log', async () => {
      const text = await sidecar.logs();
      return text.includes('exec-from-tmp') ? text : undefined;
    });
    const event = logs
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('exec-from-tmp'))
      .map((l) => JSON.parse(l) as { rule?: { id: string }; process?: { executable?: string } })[0];
    expect(event?.rule?.id, logs.slice(-2000)).toBe('exec-from-tmp');
    expect(event?.process?.executable).toBe('/tmp/sleep');
  });

  it('`npm run image` falls back to a Node base made from the local node when the registry base cannot be pulled', async () => {
    // A "registry" on a closed loopback port: the engine's pull fails at once, as it does with no network.
    const base = `127.0.0.1:${await freePort()}/library/node:24-bookworm-slim`;
    const tag = `sealwatch-test/npm-run-image:${process.pid}`;
    // --no-build: dist/ was built by the test setup, and rebuilding it would race the other test files.
    const result = await run('npx', [
      'tsx',
      'deploy/image/npm-run-image.ts',
      '--base',
      base,
      '--tag',
      tag,
      '--no-build',
    ]);
    try {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe(tag);
      expect(result.stderr).toContain(`${base} cannot be pulled`);
      expect(result.stderr).toContain(`building the Node base from this machine's node ${process.version}`);
      const version = await runOk('docker', ['run', '--rm', '--network', 'none', tag, '--version']);
      expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      await run('docker', ['rmi', tag]);
    }
  }, 300_000);

  it('`npm run image` with a bad flag says so in one line and exits 2', async () => {
    const result = await run('npx', ['tsx', 'deploy/image/npm-run-image.ts', '--tga', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/--tga/);
  });
});
