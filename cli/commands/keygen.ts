import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors/index.ts';
import { println, type CliIo } from '../io.ts';

export function registerKeygen(program: Command, io: CliIo): void {
  program
    .command('keygen')
    .description('write a signing key pair: DIR/sealwatch.key (PKCS#8 PEM, 0600) and DIR/sealwatch.pub (SPKI PEM)')
    .requiredOption('--out <dir>', 'directory to write the key pair into')
    .option('--algorithm <name>', 'ecdsa-p256 (default) or ed25519', 'ecdsa-p256')
    .option('--force', 'overwrite an existing key pair', false)
    .option('--json', 'print {privateKey, publicKey, keyHint, algorithm} as JSON', false)
    .action(async (opts: { out: string; algorithm: string; force: boolean; json: boolean }) => {
      // loaded here, not at startup: every command shares one CLI bundle (see scripts/build.mjs)
      const { generateKeyPairFiles } = await import('../../shared/signing/index.ts');
      if (opts.algorithm !== 'ecdsa-p256' && opts.algorithm !== 'ed25519') {
        throw new UsageError('BAD_ARGUMENT', `--algorithm: "${opts.algorithm}" is not ecdsa-p256 or ed25519`);
      }
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
