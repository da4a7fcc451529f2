import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { testContainerLabel } from '../harness/containers.ts';
import { run, runOk } from '../harness/exec.ts';
import { formatSealLabel, SEAL_LABEL } from '../../shared/seal/index.ts';
import { cli } from './events-fixture.ts';
import { registryAvailable, startRegistry, type TestRegistry } from '../harness/registry.ts';

const REPO = 'sealwatch-test/audit-latest';
const added: string[] = [];

/** A label-only "sealed" build: listing reads labels; without --pub they are shown as unverified. */
async function labelledBuild(n: number, created: string, extra: Record<string, string> = {}): Promise<string> {
  const image = await buildAppImage({
    repository: 'sealwatch-test/audit-latest-src',
    files: { '/app/build': `${n}\n` },
    labels: {
      [SEAL_LABEL]: formatSealLabel({
        v: 1,
        identity: `sha256:${String(n).repeat(64).slice(0, 64)}`,
        layer: `sha256:${'f'.repeat(64)}`,
        keyHint: 'hint',
        statements: 6,
        sealedAt: created,
      }),
      'org.opencontainers.image.created': created,
      'dev.sealwatch.build-number': String(n),
      ...extra,
    },
  });
  const tag = `${REPO}:${n}`;
  await runOk('docker', ['tag', image, tag]);
  added.push(tag);
  return tag;
}

describeDocker('audit latest', () => {
  let registry: TestRegistry | undefined;

  beforeAll(async () => {
    await labelledBuild(811, '2026-11-20T10:00:00Z');
    await labelledBuild(812, '2026-11-21T10:00:00Z');
    // same build time as 812: the build number decides
    await labelledBuild(813, '2026-11-21T10:00:00Z');
    const plain = await buildAppImage({ repository: 'sealwatch-test/audit-latest-src', files: { '/app/plain': 'x' } });
    await runOk('docker', ['tag', plain, `${REPO}:unsealed`]);
    added.push(`${REPO}:unsealed`);
    if (await registryAvailable()) registry = await startRegistry();
  });

  afterAll(async () => {
    for (const tag of added) await run('docker', ['rmi', tag]);
    await registry?.stop();
  });

  it('lists the sealed builds of a repository in the local engine, newest first; says which image is the latest', async () => {
    const latest = await cli(['audit', 'latest', REPO, '--image', `${REPO}:813`], '/');
    expect(latest.code, latest.stderr).toBe(0);
    const lines = latest.stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^image ${REPO}:813 \\(image [0-9a-f]{12}\\) IS the latest sealed build of ${REPO} \\[unverified\\]$`),
    );
    expect(lines[1]).toBe(`sealed builds of ${REPO} in the local engine, newest first: 3`);
    expect(lines[2]).toMatch(new RegExp(`^1\\. ${REPO}:813 #813 built 2026-11-21T10:00:00Z .*\\[unverified label\\]$`));
    expect(lines[3]).toMatch(new RegExp(`^2\\. ${REPO}:812 #812 `));
    expect(lines[4]).toMatch(new RegExp(`^3\\. ${REPO}:811 #811 `));
    expect(latest.stdout).toContain(`not sealed: ${REPO}:unsealed (no dev.sealwatch.seal label)`);

    const older = await cli(['audit', 'latest', REPO, '--image', `${REPO}:811`], '/');
    expect(older.stdout.split('\n')[0]).toContain(
      `is NOT the latest sealed build of ${REPO}: it is #3 of 3; latest is ${REPO}:813`,
    );
    const unsealed = await cli(['audit', 'latest', REPO, '--image', `${REPO}:unsealed`], '/');
    expect(unsealed.stdout.split('\n')[0]).toContain(`is NOT a sealed build of ${REPO} known to the local engine`);
  });

  it('says whether a running container runs the latest build', async () => {
    const name = `audit-latest-${process.pid}`;
    await runOk('docker', [
      'run',
      '-d',
      '--rm',
      '--network',
      'none',
      '--label',
      testContainerLabel(),
      '--name',
      name,
      `${REPO}:812`,
    ]);
    try {
      const answer = await cli(['audit', 'latest', REPO, '--container', name, '--json'], '/');
      expect(answer.code, answer.stderr).toBe(0);
      const json = JSON.parse(answer.stdout) as { target: unknown; builds: { buildNumber: number }[] };
      expect(json.target).toMatchObject({ kind: 'container', position: 2, isLatest: false });
      expect(json.builds.map((b) => b.buildNumber)).toEqual([813, 812, 811]);
    } finally {
      await run('docker', ['rm', '-f', name]);
    }
  });

  it('lists the same builds from a real registry on 127.0.0.1 with basic auth', async (ctx) => {
    if (!registry) {
      ctx.skip();
      return;
    }
    for (const n of [811, 812, 813]) await registry.push(`${REPO}:${n}`, `audit-latest:${n}`);
    await registry.push(`${REPO}:unsealed`, 'audit-latest:unsealed');
    const env = { REG_PW: registry.password };
    const io = (args: string[]) => cli(args, '/', env);
    const answer = await io([
      'audit',
      'latest',
      `${registry.host}/audit-latest`,
      '--username',
      registry.username,
      '--password-env',
      'REG_PW',
      '--image',
      `${REPO}:813`,
    ]);
    expect(answer.code, answer.stderr).toBe(0);
    const lines = answer.stdout.split('\n');
    expect(lines[0]).toContain(`IS the latest sealed build of ${registry.host}/audit-latest`);
    expect(lines[1]).toBe(
      `sealed builds of ${registry.host}/audit-latest in registry ${registry.url}, newest first: 3`,
    );
    expect(lines[2]).toMatch(/^1\. audit-latest:813 #813 /);
    expect(lines[4]).toMatch(/^3\. audit-latest:811 #811 /);
    expect(answer.stdout).toContain('not sealed: audit-latest:unsealed (no dev.sealwatch.seal label)');

    const denied = await io(['audit', 'latest', `${registry.host}/audit-latest`]);
    expect(denied.code).toBe(3);
    expect(denied.stderr.trim()).toBe(
      `sealwatch: registry ${registry.url}: tags of audit-latest: needs basic auth (give --username and --password-env)`,
    );
    const wrong = await io([
      'audit',
      'latest',
      `${registry.host}/audit-latest`,
      '--username',
      'auditor',
      '--password-env',
      'NOPE',
    ]);
    expect(wrong.code).toBe(2);
  });

  it('works with a registry that uses bearer tokens (real docker-registry, fake-token-server)', async (ctx) => {
    if (!registry) {
      ctx.skip();
      return;
    }
    const bearer = await startRegistry('bearer');
    try {
      for (const n of [811, 813]) await bearer.push(`${REPO}:${n}`, `team/audit-latest:${n}`);
      const env = { TOKEN_PW: bearer.password };
      const answer = await cli(
        [
          'audit',
          'latest',
          `${bearer.host}/team/audit-latest`,
          '--username',
          bearer.username,
          '--password-env',
          'TOKEN_PW',
          '--json',
        ],
        '/',
        env,
      );
      expect(answer.code, answer.stderr).toBe(0);
      const json = JSON.parse(answer.stdout) as { builds: { tags: string[] }[] };
      expect(json.builds.map((b) => b.tags[0])).toEqual(['team/audit-latest:813', 'team/audit-latest:811']);
      // our client asked the token service for pull access to this repository, with the credentials
      expect(bearer.tokens?.requests).toContainEqual({
        service: 'sealwatch-test-registry',
        scope: 'repository:team/audit-latest:pull',
        authorized: true,
      });
      const anonymous = await cli(['audit', 'latest', `${bearer.host}/team/audit-latest`], '/');
      expect(anonymous.code).toBe(3);
      expect(anonymous.stderr.trim()).toBe(`sealwatch: registry ${bearer.url}: token endpoint refused (HTTP 401)`);
    } finally {
      await bearer.stop();
    }
  });
});
