import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSigningKey, type SigningKey } from '../../shared/signing/index.ts';

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
