import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A Node base image made from this machine's node binary and the libraries it links against (ldd), for
 * building the sealwatch image where no registry base (node:24-bookworm-slim) can be pulled: an air-gapped
 * build host, or this project's tests. busybox-static, when installed, gives it /bin/sh and the usual tools.
 * The tag is a hash of what goes in, so a second build of the same inputs returns at once.
 */
const BUSYBOX = '/bin/busybox';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'node:x:1001:1001:node:/home/node:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'daemon:x:1:', 'app:x:1000:', 'node:x:1001:', 'nogroup:x:65534:', ''].join('\n');

function exec(file: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** Libraries a binary links against, as absolute paths (from ldd). */
async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await exec('ldd', [binary]);
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /(\/[^\s)]+)/.exec(line.includes('=>') ? (line.split('=>')[1] ?? '') : line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs];
}

export interface NodeBaseOptions {
  /** the node binary to copy; default: the one running this code */
  node?: string;
  /** repository part of the tag; default sealwatch-local/node-base */
  repository?: string;
}

/** Builds (or finds) the local Node base and returns its tag, for `--build-arg NODE_BASE=<tag>`. */
export async function buildNodeBaseImage(options: NodeBaseOptions = {}): Promise<string> {
  const node = realpathSync(options.node ?? process.execPath);
  const libs = await sharedLibraries(node);
  const busybox = existsSync(BUSYBOX) ? readFileSync(BUSYBOX) : undefined;
  const applets = busybox ? (await exec(BUSYBOX, ['--list'])).split('\n').filter((a) => /^[\w.-]+$/.test(a)) : [];
  const key = sha256(
    JSON.stringify({ v: 2, node: sha256(readFileSync(node)), libs, busybox: busybox && sha256(busybox), applets }),
  );
  const tag = `${options.repository ?? 'sealwatch-local/node-base'}:${key.slice(0, 16)}`;
  const exists = await exec('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]).then(
    () => true,
    () => false,
  );
  if (exists) return tag;
  const context = mkdtempSync(join(tmpdir(), 'sealwatch-node-base-'));
  try {
    const root = join(context, 'rootfs');
    for (const dir of ['usr/local/bin', 'bin', 'etc', 'tmp']) mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    copyFileSync(node, join(root, 'usr/local/bin/node'));
    chmodSync(join(root, 'usr/local/bin/node'), 0o755);
    for (const lib of libs) {
      const target = join(root, lib);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(realpathSync(lib), target);
    }
    if (busybox) {
      writeFileSync(join(root, 'bin/busybox'), busybox, { mode: 0o755 });
      for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    }
    writeFileSync(join(root, 'etc/passwd'), PASSWD);
    writeFileSync(join(root, 'etc/group'), GROUP);
    writeFileSync(
      join(context, 'Dockerfile'),
      'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/bin\nCMD ["node"]\n',
    );
    // The classic builder: no BuildKit or buildx needed; FROM scratch pulls nothing.
    await exec('docker', ['build', '--quiet', '-t', tag, context], { ...process.env, DOCKER_BUILDKIT: '0' });
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
