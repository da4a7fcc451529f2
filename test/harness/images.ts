import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, runOk } from './exec.ts';

/**
 * Test images built without any registry (there is none here): FROM scratch, from files on this machine.
 * Tags are content hashes of the inputs, so a second build of the same spec is instant.
 */
const BUSYBOX = '/bin/busybox';
export const BUSYBOX_APPLETS = [
  'sh',
  'ash',
  'ls',
  'ps',
  'sleep',
  'cat',
  'nc',
  'wget',
  'id',
  'cp',
  'chmod',
  'kill',
  'echo',
  'mkdir',
  'rm',
  'true',
  'false',
  'env',
  'httpd',
  'ip',
  'top',
  'head',
  'tail',
  'grep',
  'touch',
  'sed',
  'seq',
  'yes',
  'dd',
  'mv',
  'ln',
  'stat',
  'su',
  'whoami',
  'crontab',
  'telnet',
  'ping',
  'hostname',
  'date',
  'wc',
  'tee',
  'nohup',
  'setsid',
];

export interface ExtraFile {
  content: string | Buffer;
  /** File mode, e.g. 0o4755 for a setuid file; default 0o644. */
  mode?: number;
}

export interface AppImageSpec {
  /** Extra files by absolute path inside the image. */
  files?: Record<string, string | Buffer | ExtraFile>;
  /** Extra symlinks: path inside the image → target. */
  symlinks?: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workdir?: string;
  exposedPorts?: string[];
  labels?: Record<string, string>;
  /** Repository name for the tag; default sealwatch-test/app. The tag is the content hash. */
  repository?: string;
}

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'daemon:x:1:', 'app:x:1000:', 'nogroup:x:65534:', ''].join('\n');
const SHADOW = ['root:*:19000:0:99999:7:::', 'app:!:19000:0:99999:7:::', ''].join('\n');

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function imageExists(ref: string): Promise<boolean> {
  return (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref])).code === 0;
}

async function dockerBuild(context: string, tag: string): Promise<void> {
  // The classic builder: no BuildKit or buildx needed, nothing pulled (FROM scratch).
  await runOk('docker', ['build', '--quiet', '-t', tag, context], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
}

function dockerfileFor(spec: AppImageSpec): string {
  const lines = ['FROM scratch', 'COPY rootfs/ /'];
  for (const [k, v] of Object.entries(spec.env ?? {})) lines.push(`ENV ${k}=${JSON.stringify(v)}`);
  if (spec.workdir) lines.push(`WORKDIR ${spec.workdir}`);
  for (const port of spec.exposedPorts ?? []) lines.push(`EXPOSE ${port}`);
  for (const [k, v] of Object.entries(spec.labels ?? {})) lines.push(`LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`);
  if (spec.user) lines.push(`USER ${spec.user}`);
  if (spec.entrypoint) lines.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
  lines.push(`CMD ${JSON.stringify(spec.cmd ?? ['sleep', '3600'])}`);
  return `${lines.join('\n')}\n`;
}

/** An app image: busybox-static with its applets as symlinks, /etc/passwd, /etc/shadow, /tmp; plus the spec's files. */
export async function buildAppImage(spec: AppImageSpec = {}): Promise<string> {
  const busybox = readFileSync(BUSYBOX);
  const files = Object.entries(spec.files ?? {}).map(([path, f]) => {
    const file: ExtraFile = typeof f === 'string' || Buffer.isBuffer(f) ? { content: f } : f;
    return { path, content: file.content, mode: file.mode ?? 0o644 };
  });
  const dockerfile = dockerfileFor(spec);
  const key = sha256(
    JSON.stringify({
      v: 1,
      busybox: sha256(busybox),
      files: files.map((f) => [f.path, sha256(f.content), f.mode]),
      symlinks: spec.symlinks ?? {},
      dockerfile,
    }),
  );
  const tag = `${spec.repository ?? 'sealwatch-test/app'}:${key.slice(0, 16)}`;
  if (await imageExists(tag)) return tag;

  const context = mkdtempSync(join(tmpdir(), 'sealwatch-app-image-'));
  try {
    const root = join(context, 'rootfs');
    for (const dir of ['bin', 'etc', 'tmp', 'root', 'home/app', 'usr/bin', 'var/run'])
      mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of BUSYBOX_APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
    writeFileSync(join(root, 'etc/passwd'), PASSWD);
    writeFileSync(join(root, 'etc/group'), GROUP);
    writeFileSync(join(root, 'etc/shadow'), SHADOW, { mode: 0o640 });
    for (const f of files) {
      const target = join(root, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.content);
      chmodSync(target, f.mode);
    }
    for (const [path, target] of Object.entries(spec.symlinks ?? {})) {
      const at = join(root, path);
      mkdirSync(dirname(at), { recursive: true });
      rmSync(at, { force: true });
      symlinkSync(target, at);
    }
    writeFileSync(join(context, 'Dockerfile'), dockerfile);
    await dockerBuild(context, tag);
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/**
 * The sidecar's Node base in tests (the public node images cannot be pulled here): the same builder as
 * `npm run image` uses on a machine with no registry, from the host's node binary and its libraries.
 */
export { buildNodeBaseImage } from '../../deploy/image/node-base.ts';
