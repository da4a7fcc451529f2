import { expect, it } from 'vitest';
import { buildSidecarImage } from '../../deploy/image/build-image.ts';
import { describeDocker } from '../harness/docker.ts';
import { run, runOk } from '../harness/exec.ts';
import { buildNodeBaseImage } from '../harness/images.ts';

describeDocker('the sealwatch image (Dockerfile, built on the local Node base)', () => {
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
});
