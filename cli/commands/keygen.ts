import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { addFlags, readFlags, type FlagSpec } from '../flags.ts';
import { println, type CommandIo } from '../io.ts';

const KeygenFlags = z
  .object({
    out: z.string().min(1).describe('directory to write the key pair into'),
    algorithm: z.enum(['ecdsa-p256', 'ed25519']).default('ecdsa-p256').describe('ecdsa-p256 or ed25519'),
    force: z.boolean().default(false).describe('overwrite an existing key pair'),
    json: z.boolean().default(false).describe('print {privateKey, publicKey, keyHint, algorithm} as JSON'),
  })
  .strict();

const KEYGEN_FLAGS: FlagSpec<typeof KeygenFlags> = {
  schema: KeygenFlags,
  values: { out: 'dir', algorithm: 'name' },
};

export function registerKeygen(program: Command, io: CommandIo): void {
  const command = program
    .command('keygen')
    .description('write a signing key pair: DIR/sealwatch.key (PKCS#8 PEM, 0600) and DIR/sealwatch.pub (SPKI PEM)');
  addFlags(command, KEYGEN_FLAGS).action(async (_opts: unknown, self: Command) => {
    const opts = readFlags(self, KEYGEN_FLAGS, io);
    // loaded here, not at startup: every command shares one CLI bundle (see scripts/build.mjs)
    const { generateKeyPairFiles } = await import('../../shared/signing/index.ts');
    const files = generateKeyPairFiles(resolve(io.cwd, opts.out), { force: opts.force, algorithm: opts.algorithm });
    if (opts.json) {
      const { privateKeyPath, publicKeyPath, keyHint } = files;
      println(
        io.stdout,
        JSON.stringify({ privateKey: privateKeyPath, publicKey: publicKeyPath, keyHint, algorithm: opts.algorithm }),
      );
      return;
    }
    println(io.stdout, `private key: ${files.privateKeyPath} (keep it secret: a CI secret, never in the repo)`);
    println(io.stdout, `public key:  ${files.publicKeyPath} (give it to verify and watch with --pub)`);
    println(io.stdout, `key hint:    ${files.keyHint}`);
  });
}
