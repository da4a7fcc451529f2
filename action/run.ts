import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DockerClient, RegistryAuth } from '../shared/docker/index.ts';
import { createEvent, type Event } from '../shared/events/index.ts';
import { computeImageIdentity, identityMaterial, sealLayerTar, sha256Digest } from '../shared/image/index.ts';
import type { Dispatcher } from '../shared/outputs/index.ts';
import {
  inventoryToCycloneDx,
  parseRuntimeTraceFile,
  sealSubject,
  type SealLabel,
  type SarifSummaryPredicate,
} from '../shared/seal/index.ts';
import { resolveSigningKey } from '../shared/signing/index.ts';
import { ConfigError, errnoCode } from '../shared/errors/index.ts';
import { detectBaseImage, detectContext, type Env, type GitInfo } from './context/index.ts';
import {
  expandGlobs,
  parseSarif,
  parseTestReport,
  parseVulnReport,
  readReportFile,
  type TestReport,
  type VulnReport,
} from './evidence/index.ts';
import type { SealInputs } from './inputs.ts';
import { evaluateGates, securitySuiteMatcher, type GateResult } from './policy/index.ts';
import { buildProfilePredicate, loadProfiles } from './profile/index.ts';
import { signSeal } from './sign/index.ts';
import { openImagePass, sealLabels } from './stamp/index.ts';
import { buildStatements, provenancePredicate, testResultPredicate } from './statements/index.ts';
import { testTotals, type SealSummary } from './summary/index.ts';

/** What a seal run needs from the outside world: passed in by the composition root (CLI, Action). */
export interface SealDeps {
  docker: DockerClient;
  env: Env;
  cwd: string;
  /** What git says about the checkout (for the generic CI context). */
  git: GitInfo;
  now: () => Date;
  toolVersion: string;
  /** Bytes of the image read so far and the expected total (for a progress line). */
  onProgress?: (bytes: number, total: number) => void;
  /** Where the "build sealed" event goes, if any output was given. */
  dispatcher?: Dispatcher;
  /** Credentials for --push (from SEALWATCH_REGISTRY_USERNAME / _PASSWORD at the composition root). */
  registryAuth?: RegistryAuth;
}

export interface SealResult {
  summary: SealSummary;
  gates: GateResult[];
  /** True when every gate passed. */
  passed: boolean;
  label?: SealLabel;
  /** seal.jsonl text (also written to bundle-out when asked). */
  sealJsonl: string;
  event?: Event;
}

/**
 * The CI pipeline: context → evidence → inventory → profile → statements → sign → stamp → summary.
 * Every input file is read and validated before the engine is touched; a bad file is a
 * ConfigError and nothing is written. A failed gate returns `passed: false`; the image is stamped
 * anyway only with `seal-on-fail`.
 */
export async function runSeal(inputs: SealInputs, deps: SealDeps): Promise<SealResult> {
  const startedOn = deps.now().toISOString();
  // context
  const context = detectContext(deps.env, deps.git);
  // evidence (all files read and parsed first)
  // a key file, env:NAME, fd:N, or the PEM itself (the Action's input)
  const key = resolveSigningKey(inputs.key, { env: deps.env, cwd: deps.cwd });
  const isSecurity = securitySuiteMatcher(inputs['security-suite']);
  const tests: TestReport[] = expandGlobs(inputs.junit, deps.cwd, '--junit').map((f) =>
    parseTestReport(readReportFile(f, deps.cwd), isSecurity),
  );
  const vulns: VulnReport[] = expandGlobs(inputs.scan, deps.cwd, '--scan').map((f) =>
    parseVulnReport(readReportFile(f, deps.cwd)),
  );
  const sarif: SarifSummaryPredicate[] = expandGlobs(inputs.sarif, deps.cwd, '--sarif').map((f) =>
    parseSarif(readReportFile(f, deps.cwd)),
  );
  const runtimeTraces = expandGlobs(inputs['runtime-trace'], deps.cwd, '--runtime-trace').map((f) => {
    const file = readReportFile(f, deps.cwd);
    return parseRuntimeTraceFile(file.text, file.source);
  });
  const profiles = loadProfiles({
    ...(inputs.profile ? { declared: { path: resolve(deps.cwd, inputs.profile), source: inputs.profile } } : {}),
    ...(inputs.learned ? { learned: { path: resolve(deps.cwd, inputs.learned), source: inputs.learned } } : {}),
  });

  // inventory (one streamed pass over the image; the engine receives the rewritten copy meanwhile)
  const inspect = await deps.docker.inspectImage(inputs.image);
  const total = inputs.image ? estimateArchiveBytes(inspect) : 0;
  const pass = await openImagePass(deps.docker, inputs.image, {
    ...(deps.onProgress ? { onBytes: (b: number) => deps.onProgress?.(b, total) } : {}),
  });
  try {
    const read = await pass.read();
    const material = identityMaterial(read.diffIds, read.runtimeConfig);
    const identity = computeImageIdentity(material);
    const baseImage = inputs.base ?? detectBaseImage(await deps.docker.imageHistory(inputs.image), inspect.Id);
    const subjectName = inputs.tag ?? inputs.image;
    const subject = sealSubject(identity, subjectName);

    // profile
    const profile = buildProfilePredicate(profiles.declared, profiles.learned, read.inventory);

    // policy gates
    const gates = evaluateGates(
      {
        requireTests: inputs['require-tests'],
        ...(inputs['max-severity'] ? { maxSeverity: inputs['max-severity'] } : {}),
        denyExecutable: inputs['deny-executable'],
      },
      { testResults: tests.map(testResultPredicate), vulns: vulns.map((v) => v.predicate), inventory: read.inventory },
    );
    const passed = gates.every((g) => g.ok);

    // statements + sign
    const sealedAt = deps.now().toISOString();
    const statements = buildStatements(subject, {
      provenance: provenancePredicate({
        context,
        imageRef: inputs.image,
        ...(baseImage ? { baseImage } : {}),
        startedOn,
        finishedOn: sealedAt,
        toolVersion: deps.toolVersion,
      }),
      tests,
      vulns,
      sarif,
      inventory: read.inventory,
      ...(profile ? { profile } : {}),
      runtimeTraces,
      ...(inputs.sbom
        ? {
            sbom: inventoryToCycloneDx(read.inventory, {
              name: subjectName,
              identity,
              sealedAt,
              toolVersion: deps.toolVersion,
            }),
          }
        : {}),
    });
    const seal = signSeal({
      subject,
      statements,
      image: material,
      ...(baseImage ? { baseImage } : {}),
      sealedAt,
      toolVersion: deps.toolVersion,
      key,
    });

    const repoTags = inputs.tag ? [normalizeTag(inputs.tag)] : inPlaceTags(inputs.image, inspect.RepoTags ?? []);
    const summary: SealSummary = {
      image: inputs.image,
      sealed: false,
      tags: repoTags,
      identity,
      keyHint: key.keyHint,
      statements: seal.bundles.length,
      resealed: read.resealing,
      ...(read.forgedLabel ? { forgedLabel: true } : {}),
      ...(profiles.warnings.length > 0 ? { warnings: profiles.warnings } : {}),
      pushed: [],
      provenance: {
        ci: context.ci,
        ...(context.repository ? { repository: context.repository } : {}),
        ...(context.commit ? { commit: context.commit } : {}),
        ...(context.ref ? { ref: context.ref } : {}),
        ...(context.runUrl ? { runUrl: context.runUrl } : {}),
        ...(baseImage ? { baseImage } : {}),
      },
      tests: testTotals(
        tests.flatMap((t) => t.suites),
        tests.length,
      ),
      vulns: {
        reports: vulns.length,
        unknown: 0,
        low: 0,
        medium: 0,
        high: 0,
        critical: 0,
      },
      sarif: {
        reports: sarif.length,
        error: sarif.reduce((n, s) => n + s.results.error, 0),
        warning: sarif.reduce((n, s) => n + s.results.warning, 0),
        note: sarif.reduce((n, s) => n + s.results.note, 0),
      },
      inventory: {
        files: read.inventory.files,
        executables: read.inventory.executables.length,
        setuid: read.inventory.setuid.length,
        setgid: read.inventory.setgid.length,
        worldWritableDirs: read.inventory.worldWritableDirs.length,
        packages: read.inventory.packages.length,
        users: read.inventory.users.length,
        sshd: [...read.inventory.executables.map((e) => e.path), ...read.inventory.symlinks.map((s) => s.path)].filter(
          (p) => p.endsWith('/sshd'),
        ),
      },
      ...(profile
        ? {
            profile: {
              sources: profile.sources,
              processes: profile.profile.processes.length,
              listen: profile.profile.network.listen.map((l) => `${l.port}/${l.protocol}`),
            },
          }
        : {}),
      gates,
    };
    for (const v of vulns) {
      for (const k of ['unknown', 'low', 'medium', 'high', 'critical'] as const)
        summary.vulns[k] += v.predicate.summary.counts[k] ?? 0;
    }

    if (!passed && !inputs['seal-on-fail']) {
      await pass.abort('policy gate failed');
      return { summary, gates, passed, sealJsonl: seal.jsonl, ...emit(deps, summary, passed) };
    }

    // stamp
    const layerDigest = sha256Digest(await sealLayerTar(seal.jsonl));
    const label: SealLabel = {
      v: 1,
      identity,
      layer: layerDigest,
      keyHint: key.keyHint,
      statements: seal.bundles.length,
      sealedAt,
    };
    const stamped = await pass.stamp({
      sealJsonl: seal.jsonl,
      labels: sealLabels(label, context, { ...(baseImage ? { baseImage } : {}) }),
      repoTags,
      createdAt: sealedAt,
    });
    summary.sealed = true;
    summary.imageId = stamped.imageId;
    if (inputs['bundle-out']) {
      const path = resolve(deps.cwd, inputs['bundle-out']);
      writeAtomically(path, seal.jsonl, inputs['bundle-out']);
      summary.bundlePath = path;
    }
    if (inputs.push) {
      for (const tag of repoTags) {
        await deps.docker.pushImage(tag, deps.registryAuth);
        summary.pushed.push(tag);
      }
    }
    return { summary, gates, passed, label, sealJsonl: seal.jsonl, ...emit(deps, summary, passed) };
  } catch (error) {
    await pass.abort(error instanceof Error ? error.message : String(error));
    throw error;
  }
}

function emit(deps: SealDeps, summary: SealSummary, passed: boolean): { event?: Event } {
  if (!deps.dispatcher) return {};
  const failed = summary.gates.filter((g) => !g.ok);
  const event = createEvent(
    {
      event: {
        kind: 'event',
        category: ['configuration'],
        type: summary.sealed ? ['creation'] : ['denied'],
        action: summary.sealed ? 'build-sealed' : 'build-seal-refused',
        severity: passed ? 0 : 5,
        outcome: summary.sealed ? 'success' : 'failure',
        dataset: 'sealwatch.seal',
      },
      message: summary.sealed
        ? `image ${summary.image} sealed as ${summary.identity}${failed.length > 0 ? ` with ${failed.length} failed gate(s)` : ''}`
        : `image ${summary.image} not sealed: ${failed.map((g) => `--${g.gate} ${g.rule}`).join(', ')} failed`,
      container: {
        image: { name: summary.tags[0] ?? summary.image, ...(summary.imageId ? { id: summary.imageId } : {}) },
      },
      sealwatch: {
        mode: 'seal',
        outcome: summary.sealed ? 'sealed' : 'rejected',
        seal: {
          status: summary.sealed ? 'verified' : 'unsealed',
          identity: summary.identity,
          key_hint: summary.keyHint,
        },
        details: {
          statements: summary.statements,
          tests_total: summary.tests.total,
          tests_failed: summary.tests.failed + summary.tests.errored,
          vulns_critical: summary.vulns.critical,
          vulns_high: summary.vulns.high,
          executables: summary.inventory.executables,
          sshd: summary.inventory.sshd.length > 0,
          gates_failed: failed.length,
        },
      },
    },
    deps.now,
  );
  return { event: deps.dispatcher.dispatch(event) };
}

/** docker save writes each layer once plus tar headers: Size is a close estimate of the archive. */
function estimateArchiveBytes(inspect: { Size?: number } & object): number {
  const size = inspect.Size;
  return typeof size === 'number' && size > 0 ? size : 0;
}

/** `app` → `app:latest`; digests and ids have no tag to move. */
export function normalizeTag(ref: string): string {
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

function inPlaceTags(ref: string, repoTags: readonly string[]): string[] {
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(ref) || ref.includes('@'))
    return repoTags.filter((t) => t !== '<none>:<none>');
  return [normalizeTag(ref)];
}

function writeAtomically(path: string, text: string, source: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw new ConfigError('UNREADABLE', `--bundle-out ${source}: cannot write (${errnoCode(error) ?? String(error)})`, {
      cause: error,
    });
  }
}
