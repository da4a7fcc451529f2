import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { REPORT_FORMATS } from '../../audit/report/renderer.ts';
import type { ImageStory, LatestTarget } from '../../audit/index.ts';
import { UsageError, VerificationError } from '../../shared/errors/index.ts';
import { escapeTerminal } from '../../shared/text/index.ts';
import { println, type CliIo } from '../io.ts';
import { addRegistryOptions, registryClientFor, RegistryFlags } from '../registry-options.ts';

/** The audit code, loaded by the actions rather than at startup: every command shares one CLI bundle (see scripts/build.mjs). */
async function load() {
  const [audit, { createDockerClient }, { loadTrustedKeys }, registry] = await Promise.all([
    import('../../audit/index.ts'),
    import('../../shared/docker/index.ts'),
    import('../../shared/signing/index.ts'),
    import('../../shared/registry/index.ts'),
  ]);
  return { ...audit, createDockerClient, loadTrustedKeys, ...registry };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const ReportFlags = z.object({
  events: z.array(z.string().min(1)).min(1),
  format: z.enum(REPORT_FORMATS),
  out: z.string().min(1).optional(),
  since: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  rule: z.array(z.string()).default([]),
  type: z.array(z.string()).default([]),
  category: z.array(z.string()).default([]),
  minSeverity: z.string().optional(),
  image: z.array(z.string()).default([]),
  namespace: z.array(z.string()).default([]),
  progress: z.boolean().optional(),
  now: z.iso.datetime({ offset: true }).optional(),
  pub: z.array(z.string().min(1)).default([]),
});

function parseFlags<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const flag = issue ? `--${String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'flags';
  throw new UsageError('BAD_ARGUMENT', `${flag}: ${issue?.message ?? 'invalid'}`);
}

const TrustFlags = z.object({
  pub: z
    .array(z.string().min(1), { error: 'give at least one trusted public key (--pub sealwatch.pub), as for verify' })
    .min(1, 'give at least one trusted public key (--pub sealwatch.pub), as for verify'),
  dockerSocket: z.string().min(1).default('/var/run/docker.sock'),
  json: z.boolean().default(false),
});

const ImageFlags = RegistryFlags.extend(TrustFlags.shape).extend({
  engine: z.boolean().default(false),
  format: z.enum(['text', 'json', 'cyclonedx']).optional(),
});

const VerifyLogFlags = z.object({
  pub: TrustFlags.shape.pub,
  json: z.boolean().default(false),
});

const LatestFlags = RegistryFlags.extend({
  pub: z.array(z.string().min(1)).default([]),
  dockerSocket: z.string().min(1).default('/var/run/docker.sock'),
  json: z.boolean().default(false),
  registry: z.string().min(1).optional(),
  engine: z.boolean().default(false),
  image: z.string().min(1).optional(),
  container: z.string().min(1).optional(),
});

/** After the answer is printed: exit 1 when anything shown was not verified. */
function failUnlessVerified(stories: readonly ImageStory[]): void {
  const bad = stories.find((s) => !s.verified);
  if (bad) {
    throw new VerificationError(
      bad.seal.status === 'unsealed' ? 'UNSEALED' : 'BAD_SIGNATURE',
      `${bad.ref}: seal ${bad.seal.status}: claims shown are unverified`,
    );
  }
}

export function registerAudit(program: Command, io: CliIo, now: () => Date = () => new Date()): void {
  const audit = program
    .command('audit')
    .description(
      'answers for auditors and the SOC: event reports, an image story, the diff of two builds, the latest build',
    );

  audit
    .command('report')
    .description(
      'report on events from JSONL files written by `watch --output file://…` (gzip accepted); streamed, deterministic',
    )
    .requiredOption('--events <files...>', 'event JSONL files (plain or gzip)')
    .option('--format <format>', `output format: ${REPORT_FORMATS.join(', ')}`, 'md')
    .option('--out <file>', 'write the report here (atomically) instead of stdout')
    .option('--since <duration>', 'only the last 30d, 12h, 90m, 2w (resolved against now; printed in the report)')
    .option('--from <date>', 'start (inclusive): 2026-11-01 or an ISO 8601 time')
    .option('--to <date>', 'end (exclusive; a date-only value includes that day)')
    .option('--rule <id>', 'only this rule id (repeatable)', collect)
    .option('--type <type>', 'only this event.type or event.action (repeatable)', collect)
    .option('--category <category>', 'only this event.category or rule category (repeatable)', collect)
    .option('--min-severity <level>', 'info, low, medium, high, critical or 0–10')
    .option(
      '--image <ref>',
      'only events from this image name (with or without tag), id or digest (repeatable)',
      collect,
    )
    .option('--namespace <ns>', 'only events from this orchestrator namespace (repeatable)', collect)
    .option('--now <time>', 'resolve --since against this ISO 8601 time instead of the clock (reproducible reports)')
    .option(
      '--pub <file>',
      "the watcher's evidence public key (repeatable): verify the event record (hash chain, signed checkpoints) in the same read and state the result first; exit 1 unless it verifies",
      collect,
    )
    .option('--progress', 'show progress on stderr even when it is not a TTY')
    .option('--no-progress', 'never show progress')
    .action(async (raw: Record<string, unknown>) => {
      // Only the report's own modules: a report over 1M events should not wait for dockerode and sigstore to load.
      const { resolveWindow, runReport, parseMinSeverity, describeAllBadLines, describeIntegrity } =
        await import('../../audit/report/index.ts');
      const flags = parseFlags(ReportFlags, raw);
      let verifier;
      if (flags.pub.length > 0) {
        const [{ loadTrustedKeys }, { createLogVerifier }] = await Promise.all([
          import('../../shared/signing/index.ts'),
          import('../../audit/verify-log/index.ts'),
        ]);
        const keys = loadTrustedKeys(
          flags.pub.map((f) => resolve(io.cwd, f)),
          flags.pub,
        );
        verifier = createLogVerifier({ keys });
      }
      const window = resolveWindow(flags, flags.now !== undefined ? () => new Date(flags.now!) : now);
      const showProgress = flags.progress ?? io.stderr.isTTY === true;
      const summary = await runReport({
        files: flags.events.map((f) => ({ path: resolve(io.cwd, f), source: f })),
        filter: {
          window,
          rules: flags.rule,
          types: flags.type,
          categories: flags.category,
          minSeverity: flags.minSeverity === undefined ? 0 : parseMinSeverity(flags.minSeverity),
          images: flags.image,
          namespaces: flags.namespace,
        },
        format: flags.format,
        ...(flags.out !== undefined ? { outFile: resolve(io.cwd, flags.out) } : {}),
        stdout: io.stdout,
        ...(showProgress ? { progress: io.stderr } : {}),
        ...(verifier ? { verifier } : {}),
      });
      const bad = describeAllBadLines(summary.inputs);
      if (flags.out !== undefined) {
        println(io.stderr, `wrote ${flags.out}: ${summary.total} event(s)${bad !== undefined ? `, ${bad}` : ''}`);
      } else if (bad !== undefined) {
        println(io.stderr, `warning: ${bad} (listed in the report)`);
      }
      if (summary.integrity !== undefined) {
        const integrity = describeIntegrity(summary.integrity);
        if (integrity.verdict !== 'verified')
          throw new VerificationError('RECORD_INVALID', escapeTerminal(integrity.headline));
        println(io.stderr, escapeTerminal(integrity.headline));
      }
    });

  const image = audit
    .command('image')
    .description(
      "verify an image's seal, then tell its story: source, builder, tests, scans, inventory (sshd, nc, package managers, setuid, users), profile. Exit 1 unless the seal verified",
    )
    .argument('<ref>', 'image in the local engine, or HOST/REPO:TAG|@sha256:… read from that registry (no engine)')
    .option('--pub <file>', 'trusted public key (repeatable), as for verify', collect)
    .option('--engine', 'read a registry-qualified name from the local engine instead of its registry')
    .option('--docker-socket <path>', 'Docker engine socket', '/var/run/docker.sock')
    .option('--json', 'print the story as JSON (same as --format json)')
    .option(
      '--format <format>',
      'text (default), json, or cyclonedx: the sealed inventory as a CycloneDX 1.6 JSON SBOM (verified seals only)',
    );
  addRegistryOptions(image).action(async (ref: string, raw: Record<string, unknown>) => {
    const {
      loadTrustedKeys,
      createDockerClient,
      auditImage,
      auditRegistryImage,
      renderStory,
      storyCycloneDx,
      ...registry
    } = await load();
    const flags = parseFlags(ImageFlags, raw);
    const keys = loadTrustedKeys(
      flags.pub.map((f) => resolve(io.cwd, f)),
      flags.pub,
    );
    let story: ImageStory;
    if (!flags.engine && registry.hasRegistryHost(ref)) {
      const parsed = registry.parseImageReference(ref, 'REF');
      const client = await registryClientFor(parsed.registry, flags, io);
      const found = await client.getImage(parsed.repository, parsed.digest ?? parsed.tag!);
      story = await auditRegistryImage(client, found, ref, keys);
    } else {
      story = await auditImage(createDockerClient({ socketPath: flags.dockerSocket }), ref, keys);
    }
    const format = flags.format ?? (flags.json ? 'json' : 'text');
    if (format === 'cyclonedx') {
      failUnlessVerified([story]);
      const bom = storyCycloneDx(story);
      if (bom === undefined) throw new VerificationError('STATEMENT_MISSING', `${ref}: the seal holds no inventory`);
      io.stdout.write(`${JSON.stringify(bom, null, 2)}\n`);
      return;
    }
    io.stdout.write(format === 'json' ? `${JSON.stringify(story, null, 2)}\n` : renderStory(story));
    failUnlessVerified([story]);
  });

  audit
    .command('diff')
    .description(
      'what changed between two sealed builds: commits, tests and security suites, vulnerabilities, executables, packages, setuid, users, profile. Exit 1 unless both seals verified',
    )
    .argument('<refA>', 'the older build')
    .argument('<refB>', 'the newer build')
    .option('--pub <file>', 'trusted public key (repeatable), as for verify', collect)
    .option('--docker-socket <path>', 'Docker engine socket', '/var/run/docker.sock')
    .option('--json', 'print the diff as JSON')
    .action(async (refA: string, refB: string, raw: Record<string, unknown>) => {
      const { loadTrustedKeys, createDockerClient, auditImage, diffStories, renderDiff } = await load();
      const flags = parseFlags(TrustFlags, raw);
      const keys = loadTrustedKeys(
        flags.pub.map((f) => resolve(io.cwd, f)),
        flags.pub,
      );
      const docker = createDockerClient({ socketPath: flags.dockerSocket });
      const a = await auditImage(docker, refA, keys);
      const b = await auditImage(docker, refB, keys);
      const diff = diffStories(a, b);
      io.stdout.write(flags.json ? `${JSON.stringify(diff, null, 2)}\n` : renderDiff(diff));
      failUnlessVerified([a, b]);
    });

  audit
    .command('verify-log')
    .description(
      'verify the tamper-evident event record in log files (file output JSON lines, SIEM exports of them, CEF lines as a syslog receiver stored them): the hash chain and the signed checkpoints. Names each deleted, changed, reordered or cut event and each forged or missing checkpoint. Exit 1 unless all verifies',
    )
    .argument('<files...>', 'log files, oldest first (rotated files: events.jsonl.2 events.jsonl.1 events.jsonl)')
    .option('--pub <file>', "the watcher's evidence public key (repeatable)", collect)
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], raw: Record<string, unknown>) => {
      const { loadTrustedKeys, verifyLogFiles, renderLogVerification } = await load();
      const flags = parseFlags(VerifyLogFlags, raw);
      const keys = loadTrustedKeys(
        flags.pub.map((f) => resolve(io.cwd, f)),
        flags.pub,
      );
      const result = await verifyLogFiles(
        files.map((f) => resolve(io.cwd, f)),
        keys,
      );
      io.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderLogVerification(result));
      if (!result.ok) {
        throw new VerificationError(
          'RECORD_INVALID',
          result.runs.length === 0
            ? 'verify-log: no chained events in these files'
            : `verify-log: the event record does not verify (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'})`,
        );
      }
    });

  const latest = audit
    .command('latest')
    .description(
      'list the sealed builds of a repository (local engine, or a registry for host/repo names), newest first by build time and number; with --image/--container, say whether it is the latest',
    )
    .argument('<repository>', 'app, org/app (local engine) or 127.0.0.1:5000/app, registry.example/org/app (registry)')
    .option('--registry <url>', 'registry base URL (default: from the repository name; http for loopback hosts)')
    .option('--engine', 'list from the local engine even for a registry-qualified name')
    .option('--image <ref>', 'is this image the latest sealed build?')
    .option('--container <name>', 'is the image of this container the latest sealed build?')
    .option(
      '--pub <file>',
      'trusted public key (repeatable): verify each listed seal, else labels are shown as unverified',
      collect,
    )
    .option('--docker-socket <path>', 'Docker engine socket', '/var/run/docker.sock')
    .option('--json', 'print the answer as JSON');
  addRegistryOptions(latest).action(async (repositoryName: string, raw: Record<string, unknown>) => {
    const {
      parseRepository,
      loadTrustedKeys,
      createDockerClient,
      registryBaseUrl,
      listRegistryImages,
      answerLatest,
      listEngineImages,
      renderLatest,
    } = await load();
    const flags = parseFlags(LatestFlags, raw);
    if (flags.image !== undefined && flags.container !== undefined) {
      throw new UsageError('CONFLICT', '--image and --container: give one or the other');
    }
    const repo = parseRepository(repositoryName);
    const keys =
      flags.pub.length > 0
        ? loadTrustedKeys(
            flags.pub.map((f) => resolve(io.cwd, f)),
            flags.pub,
          )
        : undefined;
    const useRegistry = !flags.engine && (flags.registry !== undefined || repo.registry !== undefined);
    const docker = createDockerClient({ socketPath: flags.dockerSocket });
    let target: LatestTarget | undefined;
    if (flags.image !== undefined) {
      target = { ref: flags.image, kind: 'image', imageId: (await docker.inspectImage(flags.image)).Id };
    } else if (flags.container !== undefined) {
      target = {
        ref: flags.container,
        kind: 'container',
        imageId: (await docker.inspectContainer(flags.container)).Image,
      };
    }
    let answer;
    if (useRegistry) {
      const registry = repo.registry ?? flags.registry!;
      const client = await registryClientFor(registry, flags, io, flags.registry ?? registryBaseUrl(registry));
      const listed = await listRegistryImages(client, repo.path, keys);
      answer = answerLatest(repositoryName, `registry ${client.origin}`, listed, target);
    } else {
      const listed = await listEngineImages(
        docker,
        (repository) => docker.listImages(repository),
        repositoryName,
        keys,
      );
      answer = answerLatest(repositoryName, 'the local engine', listed, target);
    }
    io.stdout.write(flags.json ? `${JSON.stringify(answer, null, 2)}\n` : renderLatest(answer));
  });
}
