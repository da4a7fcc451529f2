import type { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from '../../shared/errors/index.ts';
import { bindEnvironment } from '../env-options.ts';
import type { CliIo } from '../io.ts';
import { packageVersion } from '../version.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const AdmissionFlags = z.object({
  config: z.string().min(1).optional(),
  pub: z
    .array(z.string().min(1), { error: 'give at least one trusted public key (--pub sealwatch.pub)' })
    .min(1, 'give at least one trusted public key (--pub sealwatch.pub)'),
  tlsCert: z.string({ error: 'the serving certificate (PEM), e.g. /etc/sealwatch/tls/tls.crt' }).min(1),
  tlsKey: z.string({ error: 'the serving key (PEM), e.g. /etc/sealwatch/tls/tls.key' }).min(1),
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:]+):\d{1,5}$/, 'HOST:PORT, e.g. 0.0.0.0:8443')
    .default('0.0.0.0:8443'),
  output: z.array(z.string().min(1)).default([]),
});

/** `sealwatch admission`: the validating and mutating admission webhook, until SIGINT/SIGTERM. */
export function registerAdmission(program: Command, io: CliIo): void {
  const cmd = program
    .command('admission')
    .description(
      'serve the Kubernetes admission webhook over HTTPS: /validate refuses (enforce) or warns about (audit) pods\n' +
        'whose images carry no valid seal by a trusted key, read straight from the registry; /mutate injects the\n' +
        'sidecar into pods labelled sealwatch.dev/inject=true. See docs/admission.md',
    )
    .option(
      '--config <file>',
      'policy file (YAML/JSON): modes per namespace or label selector, gates, registries, inject',
    )
    .option('--pub <pem>', 'trusted public key (repeatable)', collect)
    .option('--tls-cert <file>', 'serving certificate, PEM (reloaded when it changes)')
    .option('--tls-key <file>', 'serving key, PEM')
    .option('--listen <host:port>', 'HTTPS address', '0.0.0.0:8443')
    .option('--output <url>', 'where audit and refusal events go (repeatable), as for watch', collect);
  bindEnvironment(cmd, io.env).action(async (raw: Record<string, unknown>) => {
    const parsed = AdmissionFlags.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const flag = `--${String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new UsageError('BAD_ARGUMENT', `${flag}: ${issue?.message ?? 'invalid'}`);
    }
    const f = parsed.data;
    const colon = f.listen.lastIndexOf(':');
    const host = f.listen.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(f.listen.slice(colon + 1));
    if (port > 65535) throw new UsageError('BAD_ARGUMENT', `--listen: port ${port} is not a TCP port`);
    const [{ createLogger }, { runAdmission }] = await Promise.all([
      import('../../shared/logging/index.ts'),
      import('../../admission/index.ts'),
    ]);
    const logger = createLogger({ stream: io.stderr });
    const running = await runAdmission(
      {
        ...(f.config !== undefined ? { configFile: f.config } : {}),
        pub: f.pub,
        tlsCert: f.tlsCert,
        tlsKey: f.tlsKey,
        host,
        port,
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
