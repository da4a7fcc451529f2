import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { readTextFile } from '../config/index.ts';
import { keyHint } from './keys.ts';
import type { KeyAlgorithm } from './keys.ts';

/** A private key loaded from a PEM file, ready to sign; the algorithm is fixed by the key. */
export interface SigningKey {
  algorithm: KeyAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** cosign's key hint of the public key. */
  keyHint: string;
}

/** A set of trusted public keys, looked up by key hint. */
export interface TrustedKeys {
  byHint: ReadonlyMap<string, KeyObject>;
}

function algorithmOf(key: KeyObject, source: string): KeyAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new ConfigError(
    'KEY_INVALID',
    `${source}: unsupported key type ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''}; use ECDSA P-256 or Ed25519 (sealwatch keygen)`,
  );
}

/** Parses a PKCS#8/SEC1 PEM private key (unencrypted); `source` names it in errors. */
export function parseSigningKey(pem: string, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    const why = /passphrase/i.test(String(error)) ? 'encrypted keys are not supported' : 'not a PEM private key';
    throw new ConfigError('KEY_INVALID', `${source}: ${why}`, { cause: error });
  }
  const algorithm = algorithmOf(privateKey, source);
  const publicKey = createPublicKey(privateKey);
  return { algorithm, privateKey, publicKey, keyHint: keyHint(publicKey) };
}

export function loadSigningKey(file: string, source = file): SigningKey {
  return parseSigningKey(readTextFile(file, source), source);
}

/**
 * The signing key as a seal run names it, so the PEM never has to be on a command line (where every local
 * user sees it in `ps`):
 *  - `env:NAME`: the environment variable NAME holds the PEM text, or a path to the PEM file;
 *  - `fd:N`: read the PEM from the open file descriptor N (`--key fd:3 3<key.pem`, a pipe from a secret store);
 *  - PEM text itself (the Action's input, which reaches us through the environment, never argv);
 *  - otherwise a path to a PEM file, relative to `cwd`.
 */
export function resolveSigningKey(value: string, context: { env: NodeJS.ProcessEnv; cwd: string }): SigningKey {
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  if (env) {
    const name = env[1]!;
    const content = context.env[name];
    if (content === undefined || content.trim() === '') {
      throw new ConfigError('NOT_FOUND', `--key env:${name}: the environment variable ${name} is not set`);
    }
    return content.trimStart().startsWith('-----BEGIN')
      ? parseSigningKey(content, `the key in $${name}`)
      : loadSigningKey(resolve(context.cwd, content), `${content} (from $${name})`);
  }
  const fd = /^fd:(\d+)$/.exec(value);
  if (fd) return parseSigningKey(readTextFile(`/dev/fd/${fd[1]!}`, `--key ${value}`), `the key on ${value}`);
  if (value.trimStart().startsWith('-----BEGIN')) return parseSigningKey(value, 'the key input');
  return loadSigningKey(resolve(context.cwd, value), value);
}

/** A PEM public key (SPKI) or a KeyObject; PEM text is validated and named by `source` in errors. */
export function parsePublicKey(key: KeyObject | string, source: string): KeyObject {
  if (typeof key !== 'string') {
    if (key.type !== 'public') throw new ConfigError('KEY_INVALID', `${source}: not a public key`);
    algorithmOf(key, source);
    return key;
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(key);
  } catch (error) {
    throw new ConfigError('KEY_INVALID', `${source}: not a PEM public key`, { cause: error });
  }
  if (key.includes('PRIVATE KEY')) {
    throw new ConfigError('KEY_INVALID', `${source}: is a private key; pass the public key (sealwatch.pub)`);
  }
  algorithmOf(publicKey, source);
  return publicKey;
}

export function trustedKeySet(keys: readonly (KeyObject | string)[], sources?: readonly string[]): TrustedKeys {
  const byHint = new Map<string, KeyObject>();
  keys.forEach((key, i) => {
    const publicKey = parsePublicKey(key, sources?.[i] ?? `trusted key #${i + 1}`);
    byHint.set(keyHint(publicKey), publicKey);
  });
  return { byHint };
}

/** Reads `--pub` files. */
export function loadTrustedKeys(files: readonly string[], sources: readonly string[] = files): TrustedKeys {
  return trustedKeySet(
    files.map((f, i) => readTextFile(f, sources[i] ?? f)),
    sources,
  );
}
