import {
  summarizeRuntimeTrace,
  type InventoryPredicate,
  type ProvenancePredicate,
  type RuntimeTraceSummary,
  type VulnResult,
  type VulnsPredicate,
} from '../../shared/seal/index.ts';
import { isSecuritySuite } from '../../shared/policy/index.ts';
import type { SealClaims } from './claims.ts';

/** How the seal of an image stands; decided before anything else is said about it. */
export interface SealVerdict {
  status: 'verified' | 'invalid' | 'unsealed';
  /** One line: why it is invalid or unsealed (the VerificationError message). */
  reason?: string;
  code?: string;
}

export interface BuildStory {
  /** CI run/build number from the run URL: GitHub …/runs/812/…, GitLab …/pipelines/812, Jenkins …/812/, job#812. */
  buildNumber?: number;
  sourceRepo?: string;
  commit?: string;
  ref?: string;
  builderId?: string;
  buildType?: string;
  runUrl?: string;
  startedOn?: string;
  finishedOn?: string;
  baseImage?: string;
  sealedAt?: string;
}

export interface SuiteStory {
  name: string;
  tests: number;
  passed: number;
  failed: number;
  errored: number;
  skipped: number;
  security: boolean;
}

export interface TestsStory {
  result: 'PASSED' | 'WARNED' | 'FAILED';
  tests: number;
  passed: number;
  failed: number;
  errored: number;
  skipped: number;
  suites: SuiteStory[];
  securitySuites: string[];
  failedTests: string[];
}

export type VulnSeverity = 'critical' | 'high' | 'medium' | 'low' | 'unknown';
export interface Finding {
  id: string;
  severity: VulnSeverity;
  package?: string;
}
export interface ScanStory {
  scanner: string;
  version: string;
  counts: Record<VulnSeverity, number>;
  /** Every finding, most severe first then by id (for diffs). */
  findings: Finding[];
}

export interface SarifStory {
  tool: string;
  error: number;
  warning: number;
  note: number;
  topRules: { id: string; level: string; count: number }[];
}

/** Present or absent, and where: answers "is sshd in it?" at a glance. */
export interface Highlight {
  name: string;
  present: boolean;
  paths: string[];
}

export interface InventoryStory {
  files: number;
  executables: number;
  packages: number;
  highlights: Highlight[];
  packageManagers: string[];
  setuid: string[];
  setgid: string[];
  users: { name: string; uid: number; shell: string }[];
  worldWritableDirs: string[];
  /** Every executable path (with symlinks to executables) and package, for diffs. */
  executablePaths: Record<string, string>;
  packageVersions: Record<string, string>;
}

export interface ProfileStory {
  sources: string[];
  executables: string[];
  listen: string[];
  egress: string[];
}

/** Everything `audit image` says, each section flagged verified or not. */
export interface ImageStory {
  ref: string;
  seal: SealVerdict;
  /** True only when the seal verified (signature, trusted key, manifest, and this image). */
  verified: boolean;
  identity?: string;
  keyHint?: string;
  build?: BuildStory;
  tests?: TestsStory;
  scans: ScanStory[];
  sarif: SarifStory[];
  inventory?: InventoryStory;
  profile?: ProfileStory;
  /** What the image did while CI's tests ran it (in-toto runtime traces). */
  runtimeTraces: RuntimeTraceSummary[];
  /** The claims the story was told from; not serialized (`--json` prints the story, not the seal). */
  readonly claims?: SealClaims;
}

/** What "interesting" means in an inventory: remote shells, network tools, package managers. */
export const HIGHLIGHTS = [
  'sshd',
  'ssh',
  'telnetd',
  'telnet',
  'nc',
  'ncat',
  'netcat',
  'socat',
  'curl',
  'wget',
] as const;
export const PACKAGE_MANAGERS = [
  'apt',
  'apt-get',
  'dpkg',
  'apk',
  'yum',
  'dnf',
  'rpm',
  'pip',
  'pip3',
  'npm',
  'gem',
] as const;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function firstString(obj: Record<string, unknown> | undefined, keys: readonly string[]): string | undefined {
  if (!obj) return undefined;
  for (const key of keys) {
    const v = str(obj[key]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** SLSA v1 provenance → who built what from where. Tolerant of the CI-specific parameter shapes. */
export function buildStory(provenance: ProvenancePredicate | undefined, claims: SealClaims): BuildStory | undefined {
  if (!provenance && !claims.manifest) return undefined;
  const story: BuildStory = {};
  if (provenance) {
    const ext = provenance.buildDefinition.externalParameters;
    const internal = provenance.buildDefinition.internalParameters;
    const source = (provenance.buildDefinition.resolvedDependencies ?? []).find(
      (d) => d.digest?.gitCommit !== undefined || d.digest?.sha1 !== undefined,
    );
    const isRecord = (v: unknown): v is Record<string, unknown> =>
      typeof v === 'object' && v !== null && !Array.isArray(v);
    const workflow = isRecord(ext.source) ? ext.source : isRecord(ext.workflow) ? ext.workflow : undefined;
    const repo =
      str(source?.uri)
        ?.replace(/^git\+/, '')
        .replace(/@[^@]*$/, '') ??
      firstString(workflow, ['repository', 'uri', 'url']) ??
      firstString(ext, ['repository', 'repo', 'sourceRepo', 'gitUrl']);
    if (repo !== undefined) story.sourceRepo = repo;
    const commit =
      source?.digest?.gitCommit ?? source?.digest?.sha1 ?? firstString(ext, ['commit', 'gitCommit', 'sha']);
    if (commit !== undefined) story.commit = commit;
    const ref = firstString(workflow, ['ref']) ?? firstString(ext, ['ref', 'branch', 'gitRef']);
    if (ref !== undefined) story.ref = ref;
    story.builderId = provenance.runDetails.builder.id;
    story.buildType = provenance.buildDefinition.buildType;
    const run =
      firstString(ext, ['runUrl', 'buildUrl', 'run_url', 'pipelineUrl']) ??
      firstString(internal, ['runUrl', 'buildUrl']) ??
      str(provenance.runDetails.metadata?.invocationId);
    if (run !== undefined) {
      story.runUrl = run;
      const number = /\/runs\/(\d+)/.exec(run) ?? /\/pipelines\/(\d+)/.exec(run) ?? /(?:\/|#)(\d+)\/?$/.exec(run);
      if (number) story.buildNumber = Number(number[1]);
    }
    const started = str(provenance.runDetails.metadata?.startedOn);
    if (started !== undefined) story.startedOn = started;
    const finished = str(provenance.runDetails.metadata?.finishedOn);
    if (finished !== undefined) story.finishedOn = finished;
  }
  if (claims.manifest?.baseImage !== undefined) story.baseImage = claims.manifest.baseImage;
  if (claims.manifest) story.sealedAt = claims.manifest.sealedAt;
  return story;
}

export function testsStory(claims: SealClaims): TestsStory | undefined {
  if (claims.testResults.length === 0) return undefined;
  const suites = claims.testResults
    .flatMap((t) => t.suites)
    .map((s) => ({
      name: s.name,
      tests: s.tests,
      passed: s.passed,
      failed: s.failed,
      errored: s.errored,
      skipped: s.skipped,
      security: isSecuritySuite(s),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const sum = (k: 'tests' | 'passed' | 'failed' | 'errored' | 'skipped'): number =>
    suites.reduce((n, s) => n + s[k], 0);
  const results = claims.testResults.map((t) => t.result);
  const result = results.includes('FAILED') ? 'FAILED' : results.includes('WARNED') ? 'WARNED' : 'PASSED';
  return {
    result,
    tests: sum('tests'),
    passed: sum('passed'),
    failed: sum('failed'),
    errored: sum('errored'),
    skipped: sum('skipped'),
    suites,
    securitySuites: suites.filter((s) => s.security).map((s) => s.name),
    failedTests: [...new Set(claims.testResults.flatMap((t) => t.failedTests))].sort(),
  };
}

const SEVERITY_RANK: Record<VulnSeverity, number> = { critical: 4, high: 3, medium: 2, low: 1, unknown: 0 };

/** A vulns v0.2 severity entry is a label ("HIGH") or a CVSS score ("9.8"). */
export function findingSeverity(result: VulnResult): VulnSeverity {
  let best: VulnSeverity = 'unknown';
  for (const s of result.severity) {
    const text = s.score.trim().toLowerCase();
    let label: VulnSeverity = 'unknown';
    if (text === 'critical' || text === 'high' || text === 'medium' || text === 'low') label = text;
    else if (text === 'moderate') label = 'medium';
    else if (/^\d+(\.\d+)?$/.test(text)) {
      const score = Number(text);
      label = score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : score > 0 ? 'low' : 'unknown';
    }
    if (SEVERITY_RANK[label] > SEVERITY_RANK[best]) best = label;
  }
  return best;
}

function findingPackage(result: VulnResult): string | undefined {
  for (const a of result.annotations ?? []) {
    const name = str(a.package) ?? str(a.pkgName) ?? str(a.PkgName);
    if (name !== undefined) return name;
  }
  return undefined;
}

export function compareFindings(a: Finding, b: Finding): number {
  const r = SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity];
  if (r !== 0) return r;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function scanStory(vulns: VulnsPredicate): ScanStory {
  const findings = vulns.scanner.result
    .map((r) => {
      const pkg = findingPackage(r);
      return { id: r.id, severity: findingSeverity(r), ...(pkg !== undefined ? { package: pkg } : {}) };
    })
    .sort(compareFindings);
  const counts: Record<VulnSeverity, number> = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  const declared = vulns.summary.counts;
  for (const label of Object.keys(counts) as VulnSeverity[]) counts[label] = declared[label] ?? 0;
  if (Object.values(declared).every((n) => n === 0 || n === undefined)) {
    for (const f of findings) counts[f.severity]++;
  }
  return { scanner: vulns.scanner.uri, version: vulns.scanner.version, counts, findings };
}

const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

export function inventoryStory(inv: InventoryPredicate): InventoryStory {
  const byName = new Map<string, string[]>();
  const executablePaths: Record<string, string> = {};
  for (const e of inv.executables) {
    executablePaths[e.path] = e.sha256;
    byName.set(base(e.path), [...(byName.get(base(e.path)) ?? []), e.path]);
  }
  for (const l of inv.symlinks) {
    executablePaths[l.path] = `-> ${l.target}`;
    byName.set(base(l.path), [...(byName.get(base(l.path)) ?? []), `${l.path} -> ${l.target}`]);
  }
  const highlight = (name: string): Highlight => {
    const paths = [...(byName.get(name) ?? [])].sort();
    return { name, present: paths.length > 0, paths };
  };
  const packageVersions: Record<string, string> = {};
  for (const p of [...inv.packages].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    packageVersions[`${p.manager}:${p.name}`] = p.version;
  }
  return {
    files: inv.files,
    executables: inv.executables.length,
    packages: inv.packages.length,
    highlights: HIGHLIGHTS.map(highlight),
    packageManagers: PACKAGE_MANAGERS.filter((m) => byName.has(m)),
    setuid: [...inv.setuid].sort(),
    setgid: [...inv.setgid].sort(),
    users: inv.users
      .map((u) => ({ name: u.name, uid: u.uid, shell: u.shell }))
      .sort((a, b) => a.uid - b.uid || (a.name < b.name ? -1 : 1)),
    worldWritableDirs: [...inv.worldWritableDirs].sort(),
    executablePaths: Object.fromEntries(Object.entries(executablePaths).sort(([a], [b]) => (a < b ? -1 : 1))),
    packageVersions,
  };
}

export function profileStory(claims: SealClaims): ProfileStory | undefined {
  const p = claims.profile;
  if (!p) return undefined;
  const profile = p.profile;
  return {
    sources: [...p.sources],
    executables: profile.processes
      .map((proc) => (proc.name !== undefined ? `${proc.exe} (${proc.name})` : proc.exe))
      .sort(),
    listen: profile.network.listen
      .map((l) => `${l.port}/${l.protocol}${l.address !== undefined ? ` on ${l.address}` : ''}`)
      .sort(),
    egress: profile.network.egress
      .map(
        (e) =>
          `${e.cidr ?? e.host ?? 'any'}${e.ports ? `:${e.ports.join(',')}` : ''}${e.protocol ? `/${e.protocol}` : ''}`,
      )
      .sort(),
  };
}

/** The story of one image from its claims; `verdict` decides whether any of it is verified. */
export function imageStory(ref: string, verdict: SealVerdict, claims: SealClaims | undefined): ImageStory {
  const story: ImageStory = {
    ref,
    seal: verdict,
    verified: verdict.status === 'verified',
    scans: [],
    sarif: [],
    runtimeTraces: [],
  };
  if (!claims) return story;
  Object.defineProperty(story, 'claims', { value: claims, enumerable: false });
  if (claims.identity !== undefined) story.identity = claims.identity;
  if (claims.keyHint !== undefined) story.keyHint = claims.keyHint;
  const build = buildStory(claims.provenance, claims);
  if (build) story.build = build;
  const tests = testsStory(claims);
  if (tests) story.tests = tests;
  story.scans = claims.vulns.map(scanStory).sort((a, b) => (a.scanner < b.scanner ? -1 : 1));
  story.sarif = claims.sarif
    .map((s) => ({
      tool: s.tool.version !== undefined ? `${s.tool.name} ${s.tool.version}` : s.tool.name,
      error: s.results.error,
      warning: s.results.warning,
      note: s.results.note,
      topRules: [...s.rules].sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : 1)).slice(0, 5),
    }))
    .sort((a, b) => (a.tool < b.tool ? -1 : 1));
  if (claims.inventory) story.inventory = inventoryStory(claims.inventory);
  const profile = profileStory(claims);
  if (profile) story.profile = profile;
  story.runtimeTraces = claims.runtimeTraces.map(summarizeRuntimeTrace);
  return story;
}
