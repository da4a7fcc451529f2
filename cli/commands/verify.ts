import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfigFile, readTextFile } from '../../shared/config/index.ts';
import { DEFAULT_DOCKER_SOCKET } from '../../shared/docker/socket.ts';
import { PolicyError, VerificationError } from '../../shared/errors/index.ts';
import { escapeTerminal } from '../../shared/text/index.ts';
import type { ImageSealVerification } from '../../shared/seal/index.ts';
import { repeatable } from '../flag-types.ts';
import { addFlags, readFlags, type FlagSpec } from '../flags.ts';
import { println, type CommandIo } from '../io.ts';
import { REGISTRY_FLAGS, REGISTRY_VALUES, registryClientFor } from '../registry-options.ts';

const VerifyFlags = z
  .object({
    image: z
      .string()
      .min(1)
      .optional()
      .describe('image in the local engine, or HOST/REPO:TAG|@sha256:… read from that registry (no engine)'),
    engine: z
      .boolean()
      .default(false)
      .describe('read a registry-qualified --image from the local engine instead of its registry'),
    bundle: z
      .string()
      .min(1)
      .optional()
      .describe('seal file (seal.jsonl, e.g. from seal --bundle-out), with --image-config'),
    'image-config': z.string().min(1).optional().describe('docker inspect output or image config JSON, with --bundle'),
    pub: repeatable(z.string().min(1), 'give at least one trusted public key').describe('trusted public key'),
    policy: z
      .string()
      .min(1)
      .optional()
      .describe('policy gates (YAML/JSON: requireTests, maxSeverity, denyExecutable; docs/schema/gates-policy.json)'),
    json: z.boolean().default(false).describe('print the verified seal summary as JSON'),
    'docker-socket': z.string().min(1).default(DEFAULT_DOCKER_SOCKET).describe('Docker engine socket'),
    ...REGISTRY_FLAGS,
  })
  .strict();

const VERIFY_FLAGS: FlagSpec<typeof VerifyFlags> = {
  schema: VerifyFlags,
  values: {
    ...REGISTRY_VALUES,
    image: 'ref',
    bundle: 'file',
    'image-config': 'file',
    pub: 'pem',
    policy: 'file',
    'docker-socket': 'path',
  },
  rules: (f) => {
    const byImage = f.image !== undefined;
    const byFiles = f.bundle !== undefined || f['image-config'] !== undefined;
    const errors: string[] = [];
    if (byImage === byFiles) errors.push('give either --image REF or both --bundle FILE and --image-config FILE');
    else if (byFiles && (f.bundle === undefined || f['image-config'] === undefined))
      errors.push('--bundle and --image-config go together');
    return { errors };
  },
};

/** `sealwatch verify`: exit 0 valid, 1 invalid (one line saying why), 2 usage, 3 environment. */
export function registerVerify(program: Command, io: CommandIo): void {
  const command = program
    .command('verify')
    .description(
      "verify an image's seal offline: signatures by a trusted key, no statement missing, the seal is the\n" +
        'top layer and holds only the seal, and it is about this very image (layers, user, entrypoint…)\n' +
        'exit 0 valid, 1 invalid (reason on stderr), 2 usage, 3 Docker unreachable',
    );
  addFlags(command, VERIFY_FLAGS).action(async (_opts: unknown, self: Command) => {
    const opts = readFlags(self, VERIFY_FLAGS, io);
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
    const byImage = opts.image !== undefined;
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
        const client = await registryClientFor(ref.registry, opts, io);
        const verified = await verifyRegistryImage(client, ref.repository, ref.digest ?? ref.tag!, opts.image!, keys);
        digest = verified.image.digest;
        result = verified;
      } else if (byImage) {
        result = await verifyImageSeal(createDockerClient({ socketPath: opts['docker-socket'] }), opts.image!, keys);
      } else {
        result = await verifyBundleAgainstConfig(
          readTextFile(resolve(io.cwd, opts.bundle!), opts.bundle, sealApi.SEAL_FILE_MAX_BYTES),
          opts.bundle!,
          readTextFile(resolve(io.cwd, opts['image-config']!), opts['image-config']),
          opts['image-config']!,
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
