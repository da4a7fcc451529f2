import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the sealwatch image from this checkout (the repository's Dockerfile), for tests, the demo and
 * the benches. `nodeBase` is passed as `--build-arg NODE_BASE=` (here: the harness's local Node image,
 * since nothing can be pulled). The tag is a hash of everything that goes into the image, so a second
 * build of the same tree returns at once. Needs `dist/` built (`npm run build`) and `node_modules/` installed.
 */
export interface SidecarImageOptions {
  nodeBase?: string;
  repository?: string;
  /** also tag the image with this name (e.g. sealwatch/sealwatch:0.1.0) */
  tag?: string;
  /** The repository root; default: two folders above this file. */
  root?: string;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const INPUT_FILES = [
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'deploy/image/prune-dev-deps.mjs',
  'deploy/image/healthcheck.mjs',
  'native/sight/build/Release/sight.node',
];
/** Folders copied into the image whole (source maps are not: .dockerignore). */
const INPUT_DIRS = ['dist', 'bin'];

function inputFiles(root: string): string[] {
  const files = [...INPUT_FILES];
  for (const dir of INPUT_DIRS) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && !entry.name.endsWith('.map')) {
        files.push(relative(root, join(entry.parentPath, entry.name)));
      }
    }
  }
  return files.sort();
}

function exec(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

export async function buildSidecarImage(options: SidecarImageOptions = {}): Promise<string> {
  const root = options.root ?? REPO_ROOT;
  if (!existsSync(join(root, 'native/sight/build/Release/sight.node'))) {
    throw new Error('native/sight/build/Release/sight.node is missing: run npm run build:native first');
  }
  const hash = createHash('sha256').update(`base=${options.nodeBase ?? ''}\n`);
  for (const file of inputFiles(root)) hash.update(`${file}\n`).update(readFileSync(join(root, file)));
  const tag = `${options.repository ?? 'sealwatch-local/sealwatch'}:${hash.digest('hex').slice(0, 16)}`;
  const exists = await exec('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const args = ['build', '--quiet', '-t', tag];
    if (options.nodeBase !== undefined) args.push('--build-arg', `NODE_BASE=${options.nodeBase}`);
    args.push(root);
    // The classic builder: no BuildKit or buildx needed; nothing is pulled when NODE_BASE is local.
    await exec('docker', args, { ...process.env, DOCKER_BUILDKIT: '0' });
  }
  if (options.tag !== undefined) await exec('docker', ['tag', tag, options.tag]);
  return tag;
}
