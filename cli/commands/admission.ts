import type { Command } from 'commander';
import { z } from 'zod';
import { listenAddress, repeatable } from '../flag-types.ts';
import { addFlags, readFlags, type FlagSpec } from '../flags.ts';
import type { CommandIo } from '../io.ts';
import { packageVersion } from '../version.ts';

const NO_PUB = 'give at least one trusted public key (--pub sealwatch.pub)';

const AdmissionFlags = z
  .object({
    config: z
      .string()
      .min(1)
      .optional()
      .describe('policy file (YAML/JSON): modes per namespace or label selector, gates, registries, inject'),
    pub: repeatable(z.string().min(1), NO_PUB).describe('trusted public key'),
    'tls-cert': z
      .string({ error: 'the serving certificate (PEM), e.g. /etc/sealwatch/tls/tls.crt' })
      .min(1)
      .describe('serving certificate, PEM (reloaded when it changes)'),
    'tls-key': z
      .string({ error: 'the serving key (PEM), e.g. /etc/sealwatch/tls/tls.key' })
      .min(1)
      .describe('serving key, PEM'),
    listen: listenAddress('0.0.0.0:8443').prefault('0.0.0.0:8443').describe('HTTPS address'),
    output: repeatable(z.string().min(1)).default([]).describe('where audit and refusal events go, as for watch'),
  })
  .strict();

const ADMISSION_FLAGS: FlagSpec<typeof AdmissionFlags> = {
  schema: AdmissionFlags,
  values: { config: 'file', pub: 'pem', 'tls-cert': 'file', 'tls-key': 'file', listen: 'host:port', output: 'url' },
  env: true,
};

/** `sealwatch admission`: the validating and mutating admission webhook, until SIGINT/SIGTERM. */
export function registerAdmission(program: Command, io: CommandIo): void {
  const cmd = program
    .command('admission')
    .description(
      'serve the Kubernetes admission webhook over HTTPS: /validate refuses (enforce) or warns about (audit) pods\n' +
        'whose images carry no valid seal by a trusted key, read straight from the registry; /mutate injects the\n' +
        'sidecar into pods labelled sealwatch.dev/inject=true. See docs/admission.md',
    );
  addFlags(cmd, ADMISSION_FLAGS).action(async (_opts: unknown, self: Command) => {
    const f = readFlags(self, ADMISSION_FLAGS, io);
    const { runAdmission } = await import('../../admission/index.ts');
    const logger = io.log.logger();
    const running = await runAdmission(
      {
        ...(f.config !== undefined ? { configFile: f.config } : {}),
        pub: f.pub,
        tlsCert: f['tls-cert'],
        tlsKey: f['tls-key'],
        host: f.listen.host,
        port: f.listen.port,
        outputs: f.output,
        version: packageVersion(),
      },
      { logger, env: io.env, cwd: io.cwd, stdout: io.stdout },
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.close();
  });
}
