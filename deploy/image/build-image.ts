import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  /** The repository root; default: two folders above this file. */
  root?: string;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const INPUTS = [
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'dist/cli.mjs',
  'bin/sealwatch.js',
  'deploy/image/prune-dev-deps.mjs',
  'deploy/image/healthcheck.mjs',
];

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
  const hash = createHash('sha256').update(`base=${options.nodeBase ?? ''}\n`);
  for (const file of INPUTS) hash.update(`${file}\n`).update(readFileSync(join(root, file)));
  const tag = `${options.repository ?? 'sealwatch-local/sealwatch'}:${hash.digest('hex').slice(0, 16)}`;
  const exists = await exec('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]).then(
    () => true,
    () => false,
  );
  if (exists) return tag;
  const args = ['build', '--quiet', '-t', tag];
  if (options.nodeBase !== undefined) args.push('--build-arg', `NODE_BASE=${options.nodeBase}`);
  args.push(root);
  // The classic builder: no BuildKit or buildx needed; nothing is pulled when NODE_BASE is local.
  await exec('docker', args, { ...process.env, DOCKER_BUILDKIT: '0' });
  return tag;
}
