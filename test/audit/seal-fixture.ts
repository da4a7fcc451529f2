import { generateKeyPairSync } from 'node:crypto';
import {
  createSeal,
  makeStatement,
  parseSealJsonl,
  PREDICATE,
  sealSubject,
  type ParsedSeal,
} from '../../shared/seal/index.ts';
import { computeImageIdentity, identityMaterial } from '../../shared/image/index.ts';
import { parseSigningKey, type SigningKey } from '../../shared/signing/index.ts';

export function testKey(): { key: SigningKey; publicPem: string } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    key: parseSigningKey(pem, 'test.key'),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const SHA = (c: string): string => c.repeat(64).slice(0, 64);

export interface BuildSpec {
  commit: string;
  runUrl: string;
  suites: { name: string; tests: number; failed: number; security?: boolean }[];
  vulns: { id: string; severity: string; pkg: string }[];
  executables: string[];
  symlinks?: Record<string, string>;
  setuid?: string[];
  packages?: { name: string; version: string }[];
  listen: number[];
  egress?: string[];
  sealedAt: string;
}

export const BUILD_A: BuildSpec = {
  commit: '3f2c1a0000000000000000000000000000000001',
  runUrl: 'https://github.com/org/app/actions/runs/811',
  suites: [
    { name: 'unit', tests: 200, failed: 0 },
    { name: 'integration', tests: 12, failed: 1 },
  ],
  vulns: [
    { id: 'CVE-2024-0001', severity: 'CRITICAL', pkg: 'openssl' },
    { id: 'CVE-2024-0002', severity: '5.3', pkg: 'zlib' },
  ],
  executables: ['/bin/busybox', '/usr/sbin/sshd'],
  symlinks: { '/bin/nc': '/bin/busybox', '/bin/sh': '/bin/busybox' },
  setuid: ['/usr/bin/passwd'],
  packages: [
    { name: 'openssh-server', version: '1:9.2p1-2' },
    { name: 'zlib1g', version: '1.2.13' },
  ],
  listen: [8080],
  sealedAt: '2026-11-20T10:00:00.000Z',
};

export const BUILD_B: BuildSpec = {
  commit: '3f2c1a0000000000000000000000000000000002',
  runUrl: 'https://github.com/org/app/actions/runs/812',
  suites: [
    { name: 'unit', tests: 201, failed: 0 },
    { name: 'integration', tests: 12, failed: 0 },
    { name: 'security-sast', tests: 9, failed: 0, security: true },
  ],
  vulns: [{ id: 'CVE-2024-0002', severity: '5.3', pkg: 'zlib' }],
  executables: ['/bin/busybox'],
  symlinks: { '/bin/nc': '/bin/busybox', '/bin/sh': '/bin/busybox' },
  setuid: [],
  packages: [{ name: 'zlib1g', version: '1.2.13' }],
  listen: [8080, 9090],
  sealedAt: '2026-11-21T10:00:00.000Z',
};

/** A seal made by the real signing code over hand-made statements (no image needed). */
export function sealFor(
  spec: BuildSpec,
  key: SigningKey,
  diffIds: string[] = [`sha256:${SHA('a')}`],
): { seal: ParsedSeal; identity: string; jsonl: string } {
  const material = identityMaterial(diffIds, { User: 'app', Cmd: ['sleep', '3600'] });
  const identity = computeImageIdentity(material);
  const subject = sealSubject(identity, 'local/app:test');
  const statements = [
    makeStatement(subject, PREDICATE.provenance, {
      buildDefinition: {
        buildType: 'https://sealwatch.dev/buildtypes/github-actions/v1',
        externalParameters: {
          workflow: {
            repository: 'https://github.com/org/app',
            ref: 'refs/heads/main',
            path: '.github/workflows/ci.yml',
          },
        },
        resolvedDependencies: [
          { uri: 'git+https://github.com/org/app@refs/heads/main', digest: { gitCommit: spec.commit } },
        ],
      },
      runDetails: {
        builder: { id: 'https://github.com/actions/runner' },
        metadata: { invocationId: spec.runUrl, startedOn: '2026-11-20T09:50:00Z', finishedOn: spec.sealedAt },
      },
    }),
    makeStatement(subject, PREDICATE.testResult, {
      result: spec.suites.some((s) => s.failed > 0) ? 'FAILED' : 'PASSED',
      configuration: [{ name: 'junit.xml', digest: { sha256: SHA('b') } }],
      passedTests: [],
      warnedTests: [],
      failedTests: spec.suites.filter((s) => s.failed > 0).map((s) => `${s.name}.case1`),
      suites: spec.suites.map((s) => ({
        name: s.name,
        tests: s.tests,
        passed: s.tests - s.failed,
        failed: s.failed,
        errored: 0,
        skipped: 0,
        durationSeconds: 1,
        security: s.security ?? false,
      })),
    }),
    makeStatement(subject, PREDICATE.vulns, {
      scanner: {
        uri: 'https://github.com/aquasecurity/trivy',
        version: '0.50.0',
        result: spec.vulns.map((v) => ({
          id: v.id,
          severity: [{ method: 'nvd', score: v.severity }],
          annotations: [{ package: v.pkg }],
        })),
      },
      metadata: {},
      summary: {
        report: { name: 'trivy.json', digest: { sha256: SHA('c') } },
        counts: { unknown: 0, low: 0, medium: 0, high: 0, critical: 0 },
      },
    }),
    makeStatement(subject, PREDICATE.inventory, {
      files: 40,
      bytes: 1_000_000,
      executables: spec.executables.map((path, i) => ({
        path,
        sha256: SHA(String(i + 1)),
        size: 1000,
        mode: 0o755,
        uid: 0,
        gid: 0,
        setuid: false,
        setgid: false,
      })),
      symlinks: Object.entries(spec.symlinks ?? {}).map(([path, target]) => ({ path, target })),
      setuid: spec.setuid ?? [],
      setgid: [],
      worldWritableDirs: ['/tmp'],
      packages: (spec.packages ?? []).map((p) => ({ manager: 'dpkg', ...p })),
      users: [
        { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' },
        { name: 'app', uid: 1000, gid: 1000, home: '/home/app', shell: '/bin/sh' },
      ],
    }),
    makeStatement(subject, PREDICATE.profile, {
      sources: ['declared'],
      profile: {
        apiVersion: 'sealwatch.dev/v1',
        kind: 'Profile',
        metadata: {},
        processes: [{ exe: '/bin/busybox', name: 'sleep' }],
        network: { listen: spec.listen.map((port) => ({ port, protocol: 'tcp' })), egress: [] },
        resources: {},
        rules: { disable: [], custom: [] },
      },
    }),
  ];
  const created = createSeal({
    subject,
    statements,
    image: material,
    sealedAt: spec.sealedAt,
    toolVersion: 'test',
    key,
  });
  return { seal: parseSealJsonl(created.jsonl, 'test seal'), identity, jsonl: created.jsonl };
}
