import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { REPORT_FORMATS } from '../../audit/report/renderer.ts';
import type { ImageStory, LatestTarget, ReadProgress } from '../../audit/index.ts';
import { DEFAULT_DOCKER_SOCKET } from '../../shared/docker/socket.ts';
import { VerificationError } from '../../shared/errors/index.ts';
import { createProgressLine, escapeTerminal, type ProgressLine } from '../../shared/text/index.ts';
import { repeatable, whole } from '../flag-types.ts';
import { addFlags, readFlags, type FlagSpec } from '../flags.ts';
import type { CommandIo } from '../io.ts';
import { REGISTRY_FLAGS, REGISTRY_VALUES, registryClientFor } from '../registry-options.ts';

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

/** `--progress` / `--no-progress` of the commands that read large files (default: on a terminal only). */
const PROGRESS = z
  .boolean()
  .optional()
  .describe('show progress on stderr even when it is not a TTY (--no-progress: never)');

function progressWanted(io: CommandIo, flag: boolean | undefined): boolean {
  return flag ?? io.stderr.isTTY === true;
}

/** A progress line on stderr (redrawn on a terminal, a line per 10% elsewhere), or none as `--progress` says. */
function progressLine(io: CommandIo, flag: boolean | undefined, label: string): ProgressLine | undefined {
  const tty = io.stderr.isTTY === true;
  return progressWanted(io, flag)
    ? createProgressLine({ label, write: (text) => io.stderr.write(text), tty })
    : undefined;
}

const ReportFlags = z
  .object({
    events: repeatable(z.string().min(1)).describe('event JSONL files (plain or gzip)'),
    format: z
      .enum(REPORT_FORMATS)
      .default('md')
      .describe(`output format: ${REPORT_FORMATS.join(', ')}`),
    out: z.string().min(1).optional().describe('write the report here (atomically) instead of stdout'),
    since: z
      .string()
      .optional()
      .describe('only the last 30d, 12h, 90m, 2w (resolved against now; printed in the report)'),
    from: z.string().optional().describe('start (inclusive): 2026-11-01 or an ISO 8601 time'),
    to: z.string().optional().describe('end (exclusive; a date-only value includes that day)'),
    rule: repeatable(z.string()).default([]).describe('only this rule id'),
    type: repeatable(z.string()).default([]).describe('only this event.type or event.action'),
    category: repeatable(z.string()).default([]).describe('only this event.category or rule category'),
    'min-severity': z.string().optional().describe('info, low, medium, high, critical or 0–10'),
    image: repeatable(z.string())
      .default([])
      .describe('only events from this image name (with or without tag), id or digest'),
    namespace: repeatable(z.string()).default([]).describe('only events from this orchestrator namespace'),
    now: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('resolve --since against this ISO 8601 time instead of the clock (reproducible reports)'),
    pub: repeatable(z.string().min(1))
      .default([])
      .describe(
        "the watcher's evidence public key: verify the event record (hash chain, signed checkpoints) in the same read and state the result first; exit 1 unless it verifies",
      ),
    threads: whole('threads', 1, 64)
      .optional()
      .describe(
        'reading threads (default: one per idle core plus this one, at most 4, for 32 MiB of events or more; 1 with --pub)',
      ),
    progress: PROGRESS,
  })
  .strict();
const REPORT_FLAGS: FlagSpec<typeof ReportFlags> = {
  schema: ReportFlags,
  values: {
    events: 'files...',
    format: 'format',
    out: 'file',
    since: 'duration',
    from: 'date',
    to: 'date',
    rule: 'id',
    type: 'type',
    category: 'category',
    'min-severity': 'level',
    image: 'ref',
    namespace: 'ns',
    now: 'time',
    pub: 'file',
    threads: 'n',
  },
};

const NO_PUB = 'give at least one trusted public key (--pub sealwatch.pub), as for verify';
const TRUST = {
  pub: repeatable(z.string().min(1), NO_PUB).describe('trusted public key, as for verify'),
  'docker-socket': z.string().min(1).default(DEFAULT_DOCKER_SOCKET).describe('Docker engine socket'),
};
const TRUST_VALUES = { pub: 'file', 'docker-socket': 'path' } as const;

const ImageFlags = z
  .object({
    ...TRUST,
    engine: z
      .boolean()
      .default(false)
      .describe('read a registry-qualified name from the local engine instead of its registry'),
    json: z.boolean().default(false).describe('print the story as JSON (same as --format json)'),
    format: z
      .enum(['text', 'json', 'cyclonedx'])
      .optional()
      .describe(
        'text (default), json, or cyclonedx: the sealed inventory as a CycloneDX 1.6 JSON SBOM (verified seals only)',
      ),
    ...REGISTRY_FLAGS,
  })
  .strict();
const IMAGE_FLAGS: FlagSpec<typeof ImageFlags> = {
  schema: ImageFlags,
  values: { ...TRUST_VALUES, ...REGISTRY_VALUES, format: 'format' },
};

const DiffFlags = z.object({ ...TRUST, json: z.boolean().default(false).describe('print the diff as JSON') }).strict();
const DIFF_FLAGS: FlagSpec<typeof DiffFlags> = { schema: DiffFlags, values: TRUST_VALUES };

const VerifyLogFlags = z
  .object({
    pub: repeatable(z.string().min(1), NO_PUB).describe("the watcher's evidence public key"),
    json: z.boolean().default(false).describe('print the result as JSON'),
    progress: PROGRESS,
  })
  .strict();
const VERIFY_LOG_FLAGS: FlagSpec<typeof VerifyLogFlags> = { schema: VerifyLogFlags, values: { pub: 'file' } };

const LatestFlags = z
  .object({
    registry: z
      .string()
      .min(1)
      .optional()
      .describe('registry base URL (default: from the repository name; http for loopback hosts)'),
    engine: z.boolean().default(false).describe('list from the local engine even for a registry-qualified name'),
    image: z.string().min(1).optional().describe('is this image the latest sealed build?'),
    container: z.string().min(1).optional().describe('is the image of this container the latest sealed build?'),
    pub: repeatable(z.string().min(1))
      .default([])
      .describe('trusted public key: verify each listed seal, else labels are shown as unverified'),
    'docker-socket': TRUST['docker-socket'],
    json: z.boolean().default(false).describe('print the answer as JSON'),
    ...REGISTRY_FLAGS,
  })
  .strict();
const LATEST_FLAGS: FlagSpec<typeof LatestFlags> = {
  schema: LatestFlags,
  values: { ...TRUST_VALUES, ...REGISTRY_VALUES, registry: 'url', image: 'ref', container: 'name' },
  rules: (f) => ({
    errors:
      f.image !== undefined && f.container !== undefined ? ['--image and --container: give one or the other'] : [],
  }),
};

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

export function registerAudit(program: Command, io: CommandIo, now: () => Date = () => new Date()): void {
  const audit = program
    .command('audit')
    .description(
      'answers for auditors and the SOC: event reports, an image story, the diff of two builds, the latest build',
    );

  const report = audit
    .command('report')
    .description(
      'report on events from JSONL files written by `watch --output file://…` (gzip accepted); streamed, deterministic',
    );
  addFlags(report, REPORT_FLAGS).action(async (_opts: unknown, self: Command) => {
    const flags = readFlags(self, REPORT_FLAGS, io);
    // Only the report's own modules: a report over 1M events should not wait for dockerode and sigstore to load.
    const { resolveWindow, runReport, parseMinSeverity, describeAllBadLines, describeIntegrity } =
      await import('../../audit/report/index.ts');
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
    // one progress line per file read, ended when the file is (the report may be written to the same terminal next)
    let line: ProgressLine | undefined;
    let reading: string | undefined;
    const read = new Set<string>();
    const onProgress = (p: ReadProgress): void => {
      if (read.has(p.file)) return;
      if (p.file !== reading) {
        line?.done();
        reading = p.file;
        line = progressLine(io, flags.progress, `reading ${escapeTerminal(basename(p.file))}`);
      }
      line?.update(p.bytesRead, p.bytesTotal, `${p.events} events`);
      if (p.bytesRead >= p.bytesTotal) {
        read.add(p.file);
        line?.done();
        line = reading = undefined;
      }
    };
    const summary = await runReport({
      files: flags.events.map((f) => ({ path: resolve(io.cwd, f), source: f })),
      filter: {
        window,
        rules: flags.rule,
        types: flags.type,
        categories: flags.category,
        minSeverity: flags['min-severity'] === undefined ? 0 : parseMinSeverity(flags['min-severity']),
        images: flags.image,
        namespaces: flags.namespace,
      },
      format: flags.format,
      ...(flags.out !== undefined ? { outFile: resolve(io.cwd, flags.out) } : {}),
      stdout: io.stdout,
      ...(progressWanted(io, flags.progress) ? { onProgress } : {}),
      ...(verifier ? { verifier } : {}),
      ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
    }).finally(() => line?.done());
    const bad = describeAllBadLines(summary.inputs);
    if (flags.out !== undefined) {
      io.log.note(`wrote ${flags.out}: ${summary.total} event(s)${bad !== undefined ? `, ${bad}` : ''}`);
    } else if (bad !== undefined) {
      io.log.warn(`${bad} (listed in the report)`);
    }
    if (summary.integrity !== undefined) {
      const integrity = describeIntegrity(summary.integrity);
      if (integrity.verdict !== 'verified')
        throw new VerificationError('RECORD_INVALID', escapeTerminal(integrity.headline));
      io.log.note(integrity.headline);
    }
  });

  const image = audit
    .command('image')
    .description(
      "verify an image's seal, then tell its story: source, builder, tests, scans, inventory (sshd, nc, package managers, setuid, users), profile. Exit 1 unless the seal verified",
    )
    .argument('<ref>', 'image in the local engine, or HOST/REPO:TAG|@sha256:… read from that registry (no engine)');
  addFlags(image, IMAGE_FLAGS).action(async (ref: string, _opts: unknown, self: Command) => {
    const flags = readFlags(self, IMAGE_FLAGS, io);
    const {
      loadTrustedKeys,
      createDockerClient,
      auditImage,
      auditRegistryImage,
      renderStory,
      storyCycloneDx,
      ...registry
    } = await load();
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
      story = await auditImage(createDockerClient({ socketPath: flags['docker-socket'] }), ref, keys);
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

  const diff = audit
    .command('diff')
    .description(
      'what changed between two sealed builds: commits, tests and security suites, vulnerabilities, executables, packages, setuid, users, profile. Exit 1 unless both seals verified',
    )
    .argument('<refA>', 'the older build')
    .argument('<refB>', 'the newer build');
  addFlags(diff, DIFF_FLAGS).action(async (refA: string, refB: string, _opts: unknown, self: Command) => {
    const flags = readFlags(self, DIFF_FLAGS, io);
    const { loadTrustedKeys, createDockerClient, auditImage, diffStories, renderDiff } = await load();
    const keys = loadTrustedKeys(
      flags.pub.map((f) => resolve(io.cwd, f)),
      flags.pub,
    );
    const docker = createDockerClient({ socketPath: flags['docker-socket'] });
    const a = await auditImage(docker, refA, keys);
    const b = await auditImage(docker, refB, keys);
    const diff = diffStories(a, b);
    io.stdout.write(flags.json ? `${JSON.stringify(diff, null, 2)}\n` : renderDiff(diff));
    failUnlessVerified([a, b]);
  });

  const verifyLog = audit
    .command('verify-log')
    .description(
      'verify the tamper-evident event record in log files (file output JSON lines, SIEM exports of them, CEF lines as a syslog receiver stored them): the hash chain and the signed checkpoints. Names each deleted, changed, reordered or cut event and each forged or missing checkpoint. Exit 1 unless all verifies',
    )
    .argument('<files...>', 'log files, oldest first (rotated files: events.jsonl.2 events.jsonl.1 events.jsonl)');
  addFlags(verifyLog, VERIFY_LOG_FLAGS).action(async (files: string[], _opts: unknown, self: Command) => {
    const flags = readFlags(self, VERIFY_LOG_FLAGS, io);
    const { loadTrustedKeys, verifyLogFiles, renderLogVerification } = await load();
    const keys = loadTrustedKeys(
      flags.pub.map((f) => resolve(io.cwd, f)),
      flags.pub,
    );
    const progress = progressLine(io, flags.progress, 'verifying log');
    const result = await verifyLogFiles(
      files.map((f) => resolve(io.cwd, f)),
      keys,
      progress === undefined ? undefined : (bytes, total) => progress.update(bytes, total),
    ).finally(() => progress?.done());
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
    .argument('<repository>', 'app, org/app (local engine) or 127.0.0.1:5000/app, registry.example/org/app (registry)');
  addFlags(latest, LATEST_FLAGS).action(async (repositoryName: string, _opts: unknown, self: Command) => {
    const flags = readFlags(self, LATEST_FLAGS, io);
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
    const repo = parseRepository(repositoryName);
    const keys =
      flags.pub.length > 0
        ? loadTrustedKeys(
            flags.pub.map((f) => resolve(io.cwd, f)),
            flags.pub,
          )
        : undefined;
    const useRegistry = !flags.engine && (flags.registry !== undefined || repo.registry !== undefined);
    const docker = createDockerClient({ socketPath: flags['docker-socket'] });
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
