import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSigningKey, type SigningKey } from '../../shared/signing/index.ts';
import { runCliCaptured } from './cli.ts';
import { run, runOk } from './exec.ts';

/**
 * Sealing in tests, shared by test/seal (the seal itself) and test/sidecar (the watcher reading a
 * neighbour's seal): real key files, the real CLI in-process (`cli(['seal', …])`), classic-builder
 * images derived from a harness image, tags remembered for cleanup.
 */

/** A real key pair written to PEM files in a fresh temp dir. */
export function makeKeyFiles(algorithm: 'ecdsa-p256' | 'ed25519' = 'ecdsa-p256'): {
  dir: string;
  keyPath: string;
  pubPath: string;
  pubPem: string;
  key: SigningKey;
} {
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-keys-'));
  const pair =
    algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pubPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const keyPath = join(dir, 'sealwatch.key');
  const pubPath = join(dir, 'sealwatch.pub');
  writeFileSync(keyPath, privatePem, { mode: 0o600 });
  writeFileSync(pubPath, pubPem);
  return { dir, keyPath, pubPath, pubPem, key: parseSigningKey(privatePem, keyPath) };
}

/** The real CLI, in-process (harness/cli.ts), output as `out`/`err`. */
export async function cli(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const { code, stdout, stderr } = await runCliCaptured(argv, { cwd, env });
  return { code, out: stdout, err: stderr };
}

/** A unique tag under sealwatch-test/seal; remember it for cleanup. */
export function testTag(created: string[], what: string): string {
  const tag = `sealwatch-test/seal:${what}-${randomBytes(4).toString('hex')}`;
  created.push(tag);
  return tag;
}

export async function removeTags(tags: readonly string[]): Promise<void> {
  for (const tag of tags) await run('docker', ['rmi', '-f', tag]);
}

/** docker build of a Dockerfile FROM an image, with optional context files; classic builder, nothing pulled. */
export async function buildFrom(base: string, lines: string[], tag: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-tamper-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), [`FROM ${base}`, ...lines, ''].join('\n'));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    await runOk('docker', ['build', '--quiet', '--network', 'none', '-t', tag, dir], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
