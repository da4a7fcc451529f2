import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { run, runOk } from '../harness/exec.ts';
import { cli } from './events-fixture.ts';
import { registryAvailable, startRegistry, type TestRegistry } from '../harness/registry.ts';

const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));
const REPO = 'sealwatch-test/audit-app';
const SHA_A = '3f2c1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a';
const SHA_B = '7b1d0c9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3b';

const github = (sha: string, run: string): NodeJS.ProcessEnv => ({
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'org/app',
  GITHUB_SHA: sha,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_RUN_ID: run,
  GITHUB_SERVER_URL: 'https://github.com',
});

describeDocker('audit image / diff / latest on images sealed by the real seal step', () => {
  let work: string;
  const tags: string[] = [];
  let registry: TestRegistry | undefined;

  async function seal(image: string, tag: string, side: 'a' | 'b', env: NodeJS.ProcessEnv): Promise<void> {
    const res = await cli(
      [
        'seal',
        '--image',
        image,
        '--key',
        join(work, 'keys/sealwatch.key'),
        '--tag',
        tag,
        '--junit',
        join(FIX, `junit-${side}.xml`),
        '--security-suite',
        'security',
        '--scan',
        join(FIX, `trivy-${side}.json`),
        '--profile',
        join(FIX, `profile-${side}.yaml`),
      ],
      work,
      env,
    );
    if (res.code !== 0) throw new Error(`seal failed (${res.code}): ${res.stderr}`);
    tags.push(tag);
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'audit-image-'));
    const keygen = await cli(['keygen', '--out', 'keys'], work);
    if (keygen.code !== 0) throw new Error(keygen.stderr);
    const other = await cli(['keygen', '--out', 'other'], work);
    if (other.code !== 0) throw new Error(other.stderr);
    // Build 811 ships an sshd; build 812 removes it (and the seal adds a security suite, fixes a critical CVE, opens 9090).
    const a = await buildAppImage({
      repository: 'sealwatch-test/audit-app-src',
      files: { '/usr/sbin/sshd': { content: '#!/bin/sh\nexit 0\n', mode: 0o755 }, '/app/version': '811\n' },
      user: 'app',
    });
    const b = await buildAppImage({
      repository: 'sealwatch-test/audit-app-src',
      files: { '/app/version': '812\n' },
      user: 'app',
    });
    await seal(a, `${REPO}:811`, 'a', github(SHA_A, '811'));
    await seal(b, `${REPO}:812`, 'b', github(SHA_B, '812'));
    // Tampered: one more layer on top of the sealed 812.
    const ctx = join(work, 'tamper');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'extra'), 'added after sealing\n');
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${REPO}:812\nCOPY extra /extra\n`);
    await runOk('docker', ['build', '--quiet', '-t', `${REPO}:tampered`, ctx], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    tags.push(`${REPO}:tampered`);
    if (await registryAvailable()) registry = await startRegistry();
  });

  afterAll(async () => {
    for (const tag of tags) await run('docker', ['rmi', tag]);
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('audit image: verified story with source, run, tests, scan, sshd present, profile', async () => {
    const res = await cli(['audit', 'image', `${REPO}:811`, '--pub', 'keys/sealwatch.pub'], work);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(/^seal: VERIFIED \(key \S+, identity sha256:[0-9a-f]{64}\)$/);
    expect(res.stdout).not.toContain('[unverified]');
    expect(res.stdout).toContain(`build: from https://github.com/org/app@${SHA_A} (refs/heads/main)`);
    expect(res.stdout).toContain('run https://github.com/org/app/actions/runs/811');
    expect(res.stdout).toContain('tests: FAILED: 5 tests in 2 suite(s): 4 passed, 1 failed');
    expect(res.stdout).toContain('security suites: none');
    expect(res.stdout).toMatch(/scan: \S*trivy\S* .*1 critical, 0 high, 1 medium/);
    expect(res.stdout).toContain('CVE-2024-45490 (critical');
    expect(res.stdout).toMatch(/sshd: PRESENT; /);
    expect(res.stdout).toContain('sshd at /usr/sbin/sshd');
    expect(res.stdout).toMatch(/nc: PRESENT/); // busybox applet symlink
    expect(res.stdout).toContain('listens: 8080/tcp');

    const json = await cli(['audit', 'image', `${REPO}:812`, '--pub', 'keys/sealwatch.pub', '--json'], work);
    expect(json.code).toBe(0);
    const story = JSON.parse(json.stdout) as {
      verified: boolean;
      inventory: { highlights: { name: string; present: boolean }[] };
    };
    expect(story.verified).toBe(true);
    expect(story.inventory.highlights.find((h) => h.name === 'sshd')?.present).toBe(false);
  });

  it('audit diff: sshd removed, security suite added, critical fixed, new port; all verified', async () => {
    const res = await cli(['audit', 'diff', `${REPO}:811`, `${REPO}:812`, '--pub', 'keys/sealwatch.pub'], work);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split('\n').slice(0, 2)).toEqual([
      `A ${REPO}:811: seal VERIFIED`,
      `B ${REPO}:812: seal VERIFIED`,
    ]);
    expect(res.stdout).not.toContain('[unverified]');
    expect(res.stdout).toContain(`source: https://github.com/org/app@${SHA_A} → https://github.com/org/app@${SHA_B}`);
    expect(res.stdout).toContain('sshd: present → absent (REMOVED)');
    expect(res.stdout).toContain('executable removed: /usr/sbin/sshd');
    expect(res.stdout).toContain('security suite added: security: sast');
    expect(res.stdout).toContain('test suite fixed: integration');
    expect(res.stdout).toMatch(/vulnerability fixed: CVE-2024-45490 \(critical/);
    expect(res.stdout).not.toContain('vulnerability introduced');
    expect(res.stdout).toContain('profile listen added: 9090/tcp');
  });

  it('a tampered image or an untrusted key: said first in one line, everything else marked unverified, exit 1', async () => {
    const tampered = await cli(['audit', 'image', `${REPO}:tampered`, '--pub', 'keys/sealwatch.pub'], work);
    expect(tampered.code).toBe(1);
    const lines = tampered.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^seal: INVALID: image sealwatch-test\/audit-app:tampered: 1 layer\(s\) were added on top of the seal layer after sealing; every claim below is UNVERIFIED$/,
    );
    for (const line of lines.slice(2)) expect(line.startsWith('[unverified] ')).toBe(true);
    expect(tampered.stdout).toContain('[unverified] tests:');

    const untrusted = await cli(['audit', 'image', `${REPO}:811`, '--pub', 'other/sealwatch.pub'], work);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout.split('\n')[0]).toMatch(/^seal: INVALID: .*key/);

    const plain = await buildAppImage({ repository: 'sealwatch-test/audit-app-src', files: { '/app/plain': 'x' } });
    const unsealed = await cli(['audit', 'image', plain, '--pub', 'keys/sealwatch.pub'], work);
    expect(unsealed.code).toBe(1);
    expect(unsealed.stdout).toBe(
      `seal: UNSEALED: image ${plain}: not sealed (no dev.sealwatch.seal label)\nimage: ${plain}\n`,
    );

    const diff = await cli(['audit', 'diff', `${REPO}:811`, `${REPO}:tampered`, '--pub', 'keys/sealwatch.pub'], work);
    expect(diff.code).toBe(1);
    const diffLines = diff.stdout.trimEnd().split('\n');
    expect(diffLines[1]).toMatch(/^B sealwatch-test\/audit-app:tampered: seal INVALID: /);
    for (const line of diffLines.slice(2)) expect(line.startsWith('[unverified] ')).toBe(true);

    const noKey = await cli(['audit', 'image', `${REPO}:811`], work);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr.trim()).toBe(
      'sealwatch: --pub: give at least one trusted public key (--pub sealwatch.pub), as for verify',
    );
  });

  it('audit latest --pub: verified builds newest first in the engine and in a real registry', async () => {
    const engine = await cli(['audit', 'latest', REPO, '--pub', 'keys/sealwatch.pub', '--image', `${REPO}:811`], work);
    expect(engine.code, engine.stderr).toBe(0);
    const lines = engine.stdout.split('\n');
    expect(lines[0]).toContain(`is NOT the latest sealed build of ${REPO}: it is #2 of 2; latest is ${REPO}:812`);
    expect(lines[2]).toMatch(new RegExp(`^1\\. ${REPO}:812 #812 .* verified$`));
    expect(lines[3]).toMatch(new RegExp(`^2\\. ${REPO}:811 #811 .* verified$`));
    expect(engine.stdout).toMatch(
      /not sealed: sealwatch-test\/audit-app:tampered \(seal does not verify: .*layer\(s\) were added on top/,
    );

    if (!registry) return;
    await registry.push(`${REPO}:811`, 'audit-app:811');
    await registry.push(`${REPO}:812`, 'audit-app:812');
    await registry.push(`${REPO}:tampered`, 'audit-app:tampered');
    const reg = await cli(
      [
        'audit',
        'latest',
        `${registry.host}/audit-app`,
        '--pub',
        'keys/sealwatch.pub',
        '--username',
        registry.username,
        '--password-env',
        'PW',
        '--image',
        `${REPO}:812`,
        '--json',
      ],
      work,
      { PW: registry.password },
    );
    expect(reg.code, reg.stderr).toBe(0);
    const answer = JSON.parse(reg.stdout) as {
      target: { isLatest: boolean };
      builds: { tags: string[]; verified: boolean; buildNumber?: number }[];
      unsealed: { tags: string[]; reason: string }[];
    };
    expect(answer.target.isLatest).toBe(true);
    expect(answer.builds.map((b) => [b.tags[0], b.verified, b.buildNumber])).toEqual([
      ['audit-app:812', true, 812],
      ['audit-app:811', true, 811],
    ]);
    expect(answer.unsealed.map((u) => u.tags[0])).toEqual(['audit-app:tampered']);
    expect(answer.unsealed[0]?.reason).toMatch(/^seal does not verify: /);
  });
});
