import {
  PREDICATE,
  makeStatement,
  type InventoryPredicate,
  type ProfilePredicate,
  type CycloneDxBomPredicate,
  type ProvenancePredicate,
  type RuntimeTracePredicate,
  type SarifSummaryPredicate,
  type Statement,
  type Subject,
  type TestResultPredicate,
} from '../../shared/seal/index.ts';
import type { CiContext } from '../context/index.ts';
import type { TestReport, VulnReport } from '../evidence/index.ts';

export interface ProvenanceInput {
  context: CiContext;
  imageRef: string;
  baseImage?: string;
  startedOn: string;
  finishedOn: string;
  toolVersion: string;
}

/** SLSA Provenance v1 from the CI context. */
export function provenancePredicate(input: ProvenanceInput): ProvenancePredicate {
  const c = input.context;
  const deps: ProvenancePredicate['buildDefinition']['resolvedDependencies'] = [];
  if (c.repository) {
    deps.push({
      uri: `git+${c.repository}${c.ref ? `@${c.ref}` : ''}`,
      ...(c.commit ? { digest: { gitCommit: c.commit } } : {}),
    });
  }
  if (input.baseImage) deps.push({ name: 'base-image', uri: `docker-image://${input.baseImage}` });
  return {
    buildDefinition: {
      buildType: c.buildType,
      externalParameters: {
        image: input.imageRef,
        ...(c.repository || c.ref || c.commit
          ? {
              source: {
                ...(c.repository ? { repository: c.repository } : {}),
                ...(c.ref ? { ref: c.ref } : {}),
                ...(c.commit ? { commit: c.commit } : {}),
              },
            }
          : {}),
        ...(c.workflow ? { workflow: c.workflow } : {}),
        ...(input.baseImage ? { baseImage: input.baseImage } : {}),
      },
      internalParameters: { ci: c.ci, ...(c.runner ? { runner: c.runner } : {}) },
      resolvedDependencies: deps,
    },
    runDetails: {
      builder: { id: c.builderId, version: { sealwatch: input.toolVersion } },
      metadata: {
        ...(c.invocationId ? { invocationId: c.runUrl ?? c.invocationId } : c.runUrl ? { invocationId: c.runUrl } : {}),
        startedOn: input.startedOn,
        finishedOn: input.finishedOn,
      },
    },
  };
}

export function testResultPredicate(report: TestReport): TestResultPredicate {
  const failed = report.suites.some((s) => s.failed + s.errored > 0);
  const warned = !failed && report.suites.some((s) => s.skipped > 0);
  return {
    result: failed ? 'FAILED' : warned ? 'WARNED' : 'PASSED',
    configuration: [{ name: report.file.source, digest: { sha256: report.file.sha256 } }],
    passedTests: report.passedTests,
    warnedTests: report.skippedTests,
    failedTests: report.failedTests,
    suites: report.suites,
  };
}

export interface StatementParts {
  provenance: ProvenancePredicate;
  tests: readonly TestReport[];
  vulns: readonly VulnReport[];
  sarif: readonly SarifSummaryPredicate[];
  inventory: InventoryPredicate;
  profile?: ProfilePredicate;
  runtimeTraces?: readonly RuntimeTracePredicate[];
  /** the inventory as a CycloneDX BOM (seal --sbom) */
  sbom?: CycloneDxBomPredicate;
}

/** Every statement of the seal except the manifest (createSeal adds it), in a stable order. */
export function buildStatements(subject: Subject, parts: StatementParts): Statement[] {
  return [
    makeStatement(subject, PREDICATE.provenance, parts.provenance),
    ...parts.tests.map((t) => makeStatement(subject, PREDICATE.testResult, testResultPredicate(t))),
    ...parts.vulns.map((v) => makeStatement(subject, PREDICATE.vulns, v.predicate)),
    ...parts.sarif.map((s) => makeStatement(subject, PREDICATE.sarifSummary, s)),
    makeStatement(subject, PREDICATE.inventory, parts.inventory),
    ...(parts.profile ? [makeStatement(subject, PREDICATE.profile, parts.profile)] : []),
    ...(parts.runtimeTraces ?? []).map((t) => makeStatement(subject, PREDICATE.runtimeTrace, t)),
    ...(parts.sbom ? [makeStatement(subject, PREDICATE.sbom, parts.sbom)] : []),
  ];
}
