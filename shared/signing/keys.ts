import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, errnoCode } from '../errors/index.ts';
import { replaceFileAtomic } from '../fs/index.ts';

export type KeyAlgorithm = 'ecdsa-p256' | 'ed25519';

export interface KeyPairFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  keyHint: string;
}

/**
 * cosign's key hint: base64 (standard) of the sha256 of the DER (SPKI) public key.
 * Printed by `keygen`, written into the seal label, matched against `--pub` keys on verify.
 */
export function keyHint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/**
 * Writes DIR/sealwatch.key (PKCS#8 PEM, mode 0600) and DIR/sealwatch.pub (SPKI PEM).
 * Refuses to overwrite either file unless `force`; never leaves one file of a pair behind.
 */
export function generateKeyPairFiles(
  dir: string,
  options: { force?: boolean; algorithm?: KeyAlgorithm } = {},
): KeyPairFiles {
  const privateKeyPath = join(dir, 'sealwatch.key');
  const publicKeyPath = join(dir, 'sealwatch.pub');
  if (!options.force) {
    for (const path of [privateKeyPath, publicKeyPath]) {
      if (existsSync(path)) throw new ConfigError('EXISTS', `${path}: already exists; pass --force to overwrite it`);
    }
  }
  const pair =
    options.algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  try {
    mkdirSync(dir, { recursive: true });
    replaceFileAtomic(privateKeyPath, privatePem, 0o600);
    replaceFileAtomic(publicKeyPath, publicPem, 0o644);
  } catch (error) {
    throw new ConfigError('UNREADABLE', `${dir}: cannot write the key pair (${errnoCode(error) ?? String(error)})`, {
      cause: error,
    });
  }
  return { privateKeyPath, publicKeyPath, keyHint: keyHint(createPublicKey(publicPem)) };
}
