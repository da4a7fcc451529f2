import { z } from 'zod';
import { ConfigError } from '../../shared/errors/index.ts';
import { formatIssues } from '../../shared/config/index.ts';
import type { VulnResult, VulnSeverityLabel, VulnsPredicate } from '../../shared/seal/index.ts';
import { parseJsonReport, type ReportFile } from './report-file.ts';

export interface VulnReport {
  file: ReportFile;
  scanner: 'trivy' | 'grype';
  predicate: VulnsPredicate;
}

const TrivyVuln = z.looseObject({
  VulnerabilityID: z.string(),
  PkgName: z.string().optional(),
  InstalledVersion: z.string().optional(),
  FixedVersion: z.string().optional(),
  Severity: z.string().optional(),
  CVSS: z
    .record(z.string(), z.looseObject({ V3Score: z.number().optional(), V2Score: z.number().optional() }))
    .optional(),
});
const TrivyReport = z.looseObject({
  SchemaVersion: z.number().optional(),
  ArtifactName: z.string().optional(),
  CreatedAt: z.string().optional(),
  Trivy: z.looseObject({ Version: z.string().optional() }).optional(),
  Results: z
    .array(z.looseObject({ Target: z.string().optional(), Vulnerabilities: z.array(TrivyVuln).nullish() }))
    .nullish(),
});
const GrypeReport = z.looseObject({
  matches: z.array(
    z.looseObject({
      vulnerability: z.looseObject({
        id: z.string(),
        severity: z.string().optional(),
        fix: z.looseObject({ versions: z.array(z.string()).optional(), state: z.string().optional() }).optional(),
        cvss: z
          .array(z.looseObject({ metrics: z.looseObject({ baseScore: z.number().optional() }).optional() }))
          .optional(),
      }),
      artifact: z.looseObject({ name: z.string(), version: z.string().optional(), type: z.string().optional() }),
    }),
  ),
  descriptor: z
    .looseObject({
      name: z.string().optional(),
      version: z.string().optional(),
      timestamp: z.string().optional(),
      db: z
        .looseObject({ built: z.string().optional(), schemaVersion: z.union([z.string(), z.number()]).optional() })
        .optional(),
    })
    .optional(),
});

export function severityOf(text: string | undefined): VulnSeverityLabel {
  switch ((text ?? '').toLowerCase()) {
    case 'critical':
      return 'critical';
    case 'high':
      return 'high';
    case 'medium':
    case 'moderate':
      return 'medium';
    case 'low':
    case 'negligible':
      return 'low';
    default:
      return 'unknown';
  }
}

function emptyCounts(): Record<VulnSeverityLabel, number> {
  return { unknown: 0, low: 0, medium: 0, high: 0, critical: 0 };
}

/** Trivy (`trivy image --format json`) or Grype (`grype -o json`) JSON, told apart by shape. */
export function parseVulnReport(file: ReportFile): VulnReport {
  const raw = parseJsonReport(file);
  const isGrype = typeof raw === 'object' && raw !== null && 'matches' in raw;
  const isTrivy = typeof raw === 'object' && raw !== null && ('Results' in raw || 'SchemaVersion' in raw);
  if (!isGrype && !isTrivy) {
    throw new ConfigError('INVALID', `${file.source}: not a Trivy or Grype JSON report (no "Results" or "matches")`);
  }
  const report = { name: file.source, digest: { sha256: file.sha256 } };
  const counts = emptyCounts();
  const result: VulnResult[] = [];
  if (isGrype) {
    const parsed = GrypeReport.safeParse(raw);
    if (!parsed.success) throw invalid(file, parsed.error);
    for (const m of parsed.data.matches) {
      const severity = severityOf(m.vulnerability.severity);
      counts[severity] += 1;
      const score = m.vulnerability.cvss?.find((c) => c.metrics?.baseScore !== undefined)?.metrics?.baseScore;
      result.push({
        id: m.vulnerability.id,
        severity: [
          { method: 'grype', score: severity },
          ...(score !== undefined ? [{ method: 'CVSS', score: String(score) }] : []),
        ],
        annotations: [
          {
            package: m.artifact.name,
            version: m.artifact.version ?? '',
            fixedVersions: m.vulnerability.fix?.versions ?? [],
          },
        ],
      });
    }
    const d = parsed.data.descriptor;
    return {
      file,
      scanner: 'grype',
      predicate: {
        scanner: {
          uri: 'pkg:github/anchore/grype',
          version: d?.version ?? 'unknown',
          ...(d?.db
            ? {
                db: {
                  ...(d.db.built ? { lastUpdate: d.db.built } : {}),
                  ...(d.db.schemaVersion !== undefined ? { version: String(d.db.schemaVersion) } : {}),
                },
              }
            : {}),
          result,
        },
        metadata: d?.timestamp ? { scanFinishedOn: d.timestamp } : {},
        summary: { report, counts },
      },
    };
  }
  const parsed = TrivyReport.safeParse(raw);
  if (!parsed.success) throw invalid(file, parsed.error);
  for (const r of parsed.data.Results ?? []) {
    for (const v of r.Vulnerabilities ?? []) {
      const severity = severityOf(v.Severity);
      counts[severity] += 1;
      const score = Object.values(v.CVSS ?? {}).find((c) => c.V3Score !== undefined)?.V3Score;
      result.push({
        id: v.VulnerabilityID,
        severity: [
          { method: 'trivy', score: severity },
          ...(score !== undefined ? [{ method: 'CVSS_V3', score: String(score) }] : []),
        ],
        annotations: [
          {
            package: v.PkgName ?? '',
            version: v.InstalledVersion ?? '',
            fixedVersion: v.FixedVersion ?? '',
            target: r.Target ?? '',
          },
        ],
      });
    }
  }
  return {
    file,
    scanner: 'trivy',
    predicate: {
      scanner: { uri: 'pkg:github/aquasecurity/trivy', version: parsed.data.Trivy?.Version ?? 'unknown', result },
      metadata: parsed.data.CreatedAt ? { scanFinishedOn: parsed.data.CreatedAt } : {},
      summary: { report, counts },
    },
  };
}

function invalid(file: ReportFile, error: z.ZodError): ConfigError {
  const problems = formatIssues(error.issues, file.source);
  return new ConfigError('INVALID', problems[0] ?? `${file.source}: invalid report`, { problems });
}
