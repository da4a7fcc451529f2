import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSidecarImage, REPO_ROOT } from './build-image.ts';
import { buildNodeBaseImage } from './node-base.ts';

/**
 * `npm run image [-- --tag NAME] [--base IMAGE|local] [--no-build]`: builds the sealwatch image from this checkout in one
 * command, offline when it must be. The Node base is, in order: `--base local` (made from this machine's
 * node), the Dockerfile's base (or `--base`) when the engine has it or can pull it, else the local one.
 * Exit codes: 0 built, 2 bad flag, 3 the engine or the build failed.
 */
const USAGE = 'usage: npm run image [-- --tag NAME] [--base IMAGE|local] [--no-build (dist/ is already built)]';

function run(file: string, args: readonly string[], timeoutMs = 0): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, out: `${stderr}${stdout}`.trim() });
    });
  });
}

const firstLine = (text: string): string => text.split('\n').find((l) => l.trim() !== '') ?? '';

/** The default base: the Dockerfile's `ARG NODE_BASE=` (one place says which public base we build on). */
function dockerfileBase(): string {
  const m = /^ARG NODE_BASE=(\S+)/m.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  if (!m?.[1]) throw new Error('Dockerfile: no ARG NODE_BASE= line');
  return m[1];
}

async function chooseBase(requested: string | undefined, say: (line: string) => void): Promise<string> {
  const local = async (why: string): Promise<string> => {
    say(`${why}: building the Node base from this machine's node ${process.version}`);
    return buildNodeBaseImage();
  };
  if (requested === 'local') return local('--base local');
  const base = requested ?? dockerfileBase();
  if ((await run('docker', ['image', 'inspect', '--format', '{{.Id}}', base])).code === 0) return base;
  say(`pulling ${base}`);
  const pull = await run('docker', ['pull', '--quiet', base], 300_000);
  if (pull.code === 0) return base;
  return local(`${base} cannot be pulled (${firstLine(pull.out) || `exit ${pull.code}`})`);
}

async function main(argv: string[]): Promise<number> {
  const say = (line: string): void => void process.stderr.write(`sealwatch image: ${line}\n`);
  let values: { tag?: string; base?: string; 'no-build'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tag: { type: 'string' },
        base: { type: 'string' },
        'no-build': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    say(`${(error as Error).message}; ${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const tag = values.tag ?? `sealwatch/sealwatch:${version}`;
  if (!/^[a-z0-9][\w.:/-]*$/i.test(tag)) {
    say(`--tag: not an image name: ${JSON.stringify(tag)}`);
    return 2;
  }
  const engine = await run('docker', ['info', '--format', '{{.ServerVersion}}'], 30_000);
  if (engine.code !== 0) {
    say(`no Docker engine answers (${firstLine(engine.out)}); start dockerd, or set DOCKER_HOST`);
    return 3;
  }
  try {
    if (!values['no-build']) {
      say('building dist/ (node scripts/build.mjs)');
      const build = await run(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs')]);
      if (build.code !== 0) throw new Error(`node scripts/build.mjs failed: ${firstLine(build.out)}`);
      say('building native/sight (bash scripts/build-native.sh)');
      const native = await run('bash', [join(REPO_ROOT, 'scripts/build-native.sh')]);
      if (native.code !== 0) throw new Error(`scripts/build-native.sh failed: ${firstLine(native.out)}`);
    }
    const nodeBase = await chooseBase(values.base, say);
    const built = await buildSidecarImage({ nodeBase, tag });
    process.stdout.write(`${tag}\n`);
    say(`built ${tag} (${built}) on ${nodeBase}`);
    return 0;
  } catch (error) {
    say(firstLine((error as Error).message));
    return 3;
  }
}

process.exitCode = await main(process.argv.slice(2));
