import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile, readTextFile } from '../../shared/config/index.ts';
import { PolicyError, UsageError, VerificationError } from '../../shared/errors/index.ts';
import { escapeTerminal } from '../../shared/text/index.ts';
import type { ImageSealVerification } from '../../shared/seal/index.ts';
import { println, type CliIo } from '../io.ts';
import { addRegistryOptions, registryClientFor, RegistryFlags } from '../registry-options.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface VerifyOptions extends Partial<RegistryFlags> {
  image?: string;
  engine?: boolean;
  bundle?: string;
  imageConfig?: string;
  pub: string[];
  policy?: string;
  json?: boolean;
  dockerSocket: string;
}

/** `sealwatch verify`: exit 0 valid, 1 invalid (one line saying why), 2 usage, 3 environment. */
export function registerVerify(program: Command, io: CliIo): void {
  const command = program
    .command('verify')
    .description(
      "verify an image's seal offline: signatures by a trusted key, no statement missing, the seal is the\n" +
        'top layer and holds only the seal, and it is about this very image (layers, user, entrypoint…)\n' +
        'exit 0 valid, 1 invalid (reason on stderr), 2 usage, 3 Docker unreachable',
    )
    .option(
      '--image <ref>',
      'image in the local engine, or HOST/REPO:TAG|@sha256:… read from that registry (no engine)',
    )
    .option('--engine', 'read a registry-qualified --image from the local engine instead of its registry')
    .option('--bundle <file>', 'seal file (seal.jsonl, e.g. from seal --bundle-out), with --image-config')
    .option('--image-config <file>', 'docker inspect output or image config JSON, with --bundle')
    .option('--pub <pem>', 'trusted public key (repeatable)', collect, [])
    .option('--policy <file>', 'policy gates (YAML/JSON: requireTests, maxSeverity, denyExecutable)')
    .option('--json', 'print the verified seal summary as JSON')
    .option('--docker-socket <path>', 'Docker engine socket', '/var/run/docker.sock');
  addRegistryOptions(command).action(async (opts: VerifyOptions) => {
    // loaded here, not at startup: every command shares one CLI bundle (see scripts/build.mjs)
    const [
      { PolicySpec, evaluateGates, plain },
      { createDockerClient },
      sealApi,
      { loadTrustedKeys },
      { hasRegistryHost, parseImageReference, verifyRegistryImage },
    ] = await Promise.all([
      import('../../action/index.ts'),
      import('../../shared/docker/index.ts'),
      import('../../shared/seal/index.ts'),
      import('../../shared/signing/index.ts'),
      import('../../shared/registry/index.ts'),
    ]);
    const { verifyBundleAgainstConfig, verifyImageSeal } = sealApi;
    if (opts.pub.length === 0) throw new UsageError('MISSING_ARGUMENT', '--pub: give at least one trusted public key');
    const byImage = opts.image !== undefined;
    const byFiles = opts.bundle !== undefined || opts.imageConfig !== undefined;
    if (byImage === byFiles) {
      throw new UsageError('CONFLICT', 'give either --image REF or both --bundle FILE and --image-config FILE');
    }
    if (byFiles && (opts.bundle === undefined || opts.imageConfig === undefined)) {
      throw new UsageError('MISSING_ARGUMENT', '--bundle and --image-config go together');
    }
    const keys = loadTrustedKeys(
      opts.pub.map((p) => resolve(io.cwd, p)),
      opts.pub,
    );
    const policy = opts.policy
      ? loadConfigFile({ schema: PolicySpec }, resolve(io.cwd, opts.policy), opts.policy).value
      : undefined;
    let result: ImageSealVerification;
    let digest: string | undefined;
    const mode = byImage ? 'image' : 'bundle';
    const subject = opts.image ?? opts.bundle!;
    try {
      if (byImage && !opts.engine && hasRegistryHost(opts.image!)) {
        const ref = parseImageReference(opts.image!);
        const flags = RegistryFlags.safeParse(opts);
        if (!flags.success)
          throw new UsageError('BAD_ARGUMENT', `--timeout: ${flags.error.issues[0]?.message ?? 'invalid'}`);
        const client = await registryClientFor(ref.registry, flags.data, io);
        const verified = await verifyRegistryImage(client, ref.repository, ref.digest ?? ref.tag!, opts.image!, keys);
        digest = verified.image.digest;
        result = verified;
      } else if (byImage) {
        result = await verifyImageSeal(createDockerClient({ socketPath: opts.dockerSocket }), opts.image!, keys);
      } else {
        result = await verifyBundleAgainstConfig(
          readTextFile(resolve(io.cwd, opts.bundle!), opts.bundle, sealApi.SEAL_FILE_MAX_BYTES),
          opts.bundle!,
          readTextFile(resolve(io.cwd, opts.imageConfig!), opts.imageConfig),
          opts.imageConfig!,
          keys,
        );
      }
    } catch (error) {
      // what was checked before the failure, then the failure (the one-line reason still goes to stderr)
      if (error instanceof VerificationError) {
        const checks = sealApi.checksUntilFailure(error, mode);
        if (opts.json) println(io.stdout, JSON.stringify({ valid: false, image: subject, checks }, null, 2));
        else {
          println(io.stdout, `not verified: ${escapeTerminal(subject)}`);
          for (const c of checks)
            println(io.stdout, `  check ${c.ok ? 'pass' : 'FAIL'}: ${c.check}: ${escapeTerminal(c.detail)}`);
        }
      }
      throw error;
    }
    const seal = result.seal;
    const gates = policy
      ? evaluateGates(policy, {
          testResults: seal.testResults.map((t) => t.predicate),
          vulns: seal.vulns.map((v) => v.predicate),
          inventory: seal.inventory?.predicate,
        })
      : [];
    const kinds = sealApi.statementKinds(seal);
    const statements = kinds.reduce((n, k) => n + k.count, 0);
    const checks = sealApi.passedChecks(result, mode);
    if (opts.json) {
      println(
        io.stdout,
        JSON.stringify(
          {
            valid: gates.every((g) => g.ok),
            image: subject,
            ...(digest !== undefined ? { digest } : {}),
            identity: seal.identity,
            keyHint: seal.keyHint,
            sealLayer: result.sealLayer,
            statements,
            sealedAt: seal.manifest.predicate.sealedAt,
            checks,
            gates,
          },
          null,
          2,
        ),
      );
    } else {
      const source = seal.provenance?.predicate.buildDefinition.externalParameters.source as
        { repository?: string; commit?: string } | undefined;
      println(io.stdout, `verified: ${plain(subject)}`);
      if (digest !== undefined) println(io.stdout, `  digest:     ${digest}`);
      println(io.stdout, `  identity:   ${seal.identity}`);
      println(io.stdout, `  key hint:   ${seal.keyHint}`);
      println(
        io.stdout,
        `  statements: ${statements}: ${kinds.map((k) => (k.count > 1 ? `${k.kind} ×${k.count}` : k.kind)).join(', ')}`,
      );
      println(io.stdout, `  sealed at:  ${plain(seal.manifest.predicate.sealedAt)}`);
      if (source?.repository) {
        println(
          io.stdout,
          `  source:     ${plain(source.repository)}${source.commit ? `@${plain(source.commit.slice(0, 12))}` : ''}`,
        );
      }
      for (const c of checks) println(io.stdout, `  check pass: ${c.check}: ${c.detail}`);
      for (const g of gates)
        println(io.stdout, `  gate ${g.ok ? 'pass' : 'FAIL'}: --${g.gate} ${plain(g.rule)}: ${plain(g.reason)}`);
    }
    const failed = gates.find((g) => !g.ok);
    if (failed)
      throw new PolicyError('GATE_FAILED', `policy gate failed: --${failed.gate} ${failed.rule}: ${failed.reason}`);
  });
}
