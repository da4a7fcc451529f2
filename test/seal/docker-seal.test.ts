import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { PREDICATE, parseSealJsonl, verifySeal } from '../../shared/seal/index.ts';
import { DPKG, makeKeyFiles } from './helpers.ts';
import { buildFrom, cli, forgeSeal, inspect, readSeal, removeTags, testTag } from './docker-helpers.ts';

const FIX = join(import.meta.dirname, 'fixtures');

describeDocker('seal and verify against a real engine', () => {
  const created: string[] = [];
  const keys = makeKeyFiles();
  const otherKeys = makeKeyFiles('ed25519');
  let work: string;
  let base: string;
  let app: string;
  let other: string;
  let sealed: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sealwatch-seal-'));
    base = await buildAppImage({
      files: {
        '/usr/sbin/sshd': { content: '#!/bin/sh\necho fake sshd\n', mode: 0o755 },
        '/usr/bin/helper': { content: '#!/bin/sh\nid\n', mode: 0o4755 },
        '/var/lib/dpkg/status': DPKG,
        '/srv/data/drop': { content: '#!/bin/sh\n', mode: 0o755 },
      },
      user: 'app',
      entrypoint: ['/bin/busybox'],
      cmd: ['httpd', '-f', '-p', '8080'],
      exposedPorts: ['8080/tcp'],
      repository: 'sealwatch-test/seal-app',
    });
    // A second layer: setuid set by RUN (the classic builder strips setuid from COPY) and a
    // deleted file (a whiteout the inventory must apply).
    app = testTag(created, 'app');
    await buildFrom(
      base,
      [
        'USER 0',
        'RUN ["/bin/busybox", "chmod", "4755", "/usr/bin/helper"]',
        'RUN ["/bin/busybox", "rm", "/srv/data/drop"]',
        'USER app',
      ],
      app,
    );
    other = await buildAppImage({ files: { '/etc/other': 'another image' }, repository: 'sealwatch-test/seal-other' });
    sealed = testTag(created, 'sealed');
    const res = await cli(
      [
        'seal',
        '--image',
        app,
        '--key',
        keys.keyPath,
        '--tag',
        sealed,
        '--junit',
        join(FIX, 'reports/junit-*.xml'),
        '--junit',
        join(FIX, 'reports/xunit-sast.xml'),
        '--security-suite',
        'security',
        '--scan',
        join(FIX, 'trivy.json'),
        '--scan',
        join(FIX, 'grype.json'),
        '--sarif',
        join(FIX, 'semgrep.sarif'),
        '--profile',
        join(FIX, 'profile.yaml'),
        '--learned',
        join(FIX, 'learned.yaml'),
        '--bundle-out',
        'seal.jsonl',
        '--output',
        `file://${join(work, 'events.jsonl')}`,
      ],
      work,
      {
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'org/app',
        GITHUB_SHA: '3f2c1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_RUN_ID: '812',
        GITHUB_SERVER_URL: 'https://github.com',
      },
    );
    if (res.code !== 0) throw new Error(`seal failed (${res.code}): ${res.err}`);
  });

  afterAll(async () => {
    await removeTags(created);
    rmSync(work, { recursive: true, force: true });
  });

  it('stamps one top layer with the seal, a small label and OCI labels; verify accepts it', async () => {
    const before = await inspect(app);
    const after = await inspect(sealed);
    expect(after.RootFS.Layers.slice(0, -1)).toEqual(before.RootFS.Layers);
    const label = JSON.parse(after.Config.Labels!['dev.sealwatch.seal']!);
    expect(label.layer).toBe(after.RootFS.Layers.at(-1));
    expect(Buffer.byteLength(after.Config.Labels!['dev.sealwatch.seal']!)).toBeLessThan(4096);
    expect(after.Config.Labels!['org.opencontainers.image.revision']).toBe('3f2c1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a');
    expect(after.Config.Labels!['org.opencontainers.image.source']).toBe('https://github.com/org/app');
    // the bundle written beside the image is the same seal
    expect(readFileSync(join(work, 'seal.jsonl'), 'utf8')).toBe(await readSeal(sealed));
    const ok = await cli(['verify', '--image', sealed, '--pub', keys.pubPath], work);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`identity:   ${label.identity}`);
    // the "build sealed" event went to the JSONL output
    const event = JSON.parse(readFileSync(join(work, 'events.jsonl'), 'utf8').trim().split('\n')[0]!);
    expect(event.event.action).toBe('build-sealed');
    expect(event.sealwatch.seal.identity).toBe(label.identity);
  });

  it('the seal holds typed statements: provenance, tests, vulns, sarif, inventory (sshd, setuid, dpkg, users), merged profile', async () => {
    const seal = verifySeal(parseSealJsonl(await readSeal(sealed), sealed), { trustedKeys: [keys.pubPem] });
    expect(seal.provenance?.predicate.runDetails.metadata?.invocationId).toBe(
      'https://github.com/org/app/actions/runs/812/attempts/1',
    );
    expect(seal.testResults).toHaveLength(3);
    expect(
      seal.testResults.flatMap((t) => t.predicate.suites.filter((s) => s.security).map((s) => s.name)).sort(),
    ).toEqual(['security: dast-smoke', 'security: sast rules']);
    expect(seal.vulns.map((v) => v.predicate.scanner.uri).sort()).toEqual([
      'pkg:github/anchore/grype',
      'pkg:github/aquasecurity/trivy',
    ]);
    expect(seal.sarif[0]?.predicate.tool.name).toBe('Semgrep OSS');
    const inv = seal.inventory!.predicate;
    expect(inv.executables.map((e) => e.path)).toEqual(['/bin/busybox', '/usr/bin/helper', '/usr/sbin/sshd']);
    expect(inv.setuid).toEqual(['/usr/bin/helper']);
    expect(inv.executables.find((e) => e.path === '/usr/bin/helper')?.setuid).toBe(true);
    expect(inv.executables.some((e) => e.path === '/srv/data/drop')).toBe(false);
    expect(seal.provenance?.predicate.buildDefinition.externalParameters.baseImage).toBe(base);
    expect(inv.worldWritableDirs).toContain('/tmp');
    expect(inv.symlinks).toContainEqual({ path: '/bin/sh', target: '/bin/busybox' });
    expect(inv.packages.map((p) => p.name)).toEqual(['libc6', 'openssh-server']);
    expect(inv.users.map((u) => u.name)).toContain('app');
    const busybox = inv.executables.find((e) => e.path === '/bin/busybox')!;
    expect(busybox.sha256).toMatch(/^[0-9a-f]{64}$/);
    const profile = seal.profile!.predicate;
    expect(profile.sources).toEqual(['declared', 'learned']);
    expect(profile.profile.processes.find((p) => p.exe === '/bin/sh')?.sha256).toBe(busybox.sha256);
    expect(seal.manifest.predicate.statements).toHaveLength(
      1 + seal.testResults.length + seal.vulns.length + seal.sarif.length + 2,
    );
    expect(seal.manifest.predicate.image.config.User).toBe('app');
    expect(seal.provenance?.predicate.buildDefinition.resolvedDependencies?.[0]?.uri).toBe(
      'git+https://github.com/org/app@refs/heads/main',
    );
    expect(PREDICATE.inventory).toBe(seal.inventory!.predicateType);
  });

  it('re-sealing replaces the seal layer instead of stacking a second one', async () => {
    const resealed = testTag(created, 'resealed');
    const res = await cli(['seal', '--image', sealed, '--key', keys.keyPath, '--tag', resealed, '--progress'], work);
    expect(res.code).toBe(0);
    expect(res.out).toContain('previous seal replaced');
    // not a TTY: plain progress lines, no carriage returns, no colour
    expect(res.err).toMatch(/^reading image: \d+\.\d MB of ~\d+\.\d MB(, \d+\.\d MB\/s)?(, ETA \d+ s)? \(\d+%\)$/m);
    expect(/\r/.test(res.err + res.out) || (res.err + res.out).includes('\u001b')).toBe(false);
    const a = await inspect(sealed);
    const b = await inspect(resealed);
    expect(b.RootFS.Layers).toHaveLength(a.RootFS.Layers.length);
    expect(b.RootFS.Layers.slice(0, -1)).toEqual(a.RootFS.Layers.slice(0, -1));
    expect(JSON.parse(b.Config.Labels!['dev.sealwatch.seal']!).identity).toBe(
      JSON.parse(a.Config.Labels!['dev.sealwatch.seal']!).identity,
    );
    expect((await cli(['verify', '--image', resealed, '--pub', keys.pubPath], work)).code).toBe(0);
  });

  const rejects = async (ref: string, reason: RegExp, pub = keys.pubPath) => {
    const res = await cli(['verify', '--image', ref, '--pub', pub], work);
    expect(res.code).toBe(1);
    // stdout: the checks that passed, then the one that failed with the same reason
    const checks = res.out.trimEnd().split('\n');
    expect(checks[0]).toBe(`not verified: ${ref}`);
    expect(checks.slice(1, -1).every((l) => /^ {2}check pass: /.test(l))).toBe(true);
    expect(checks.at(-1)).toMatch(/^ {2}check FAIL: /);
    expect(checks.at(-1)).toMatch(reason);
    const lines = res.err.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(reason);
  };

  it('tamper: one byte of a statement changed (seal layer and label rebuilt consistently)', async () => {
    const lines = (await readSeal(sealed)).trimEnd().split('\n');
    const bundle = JSON.parse(lines[0]!) as { dsseEnvelope: { payload: string } };
    const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    const at = payload.indexOf('refs/heads/main');
    payload[at + 11] = 'x'.charCodeAt(0); // refs/heads/xain
    bundle.dsseEnvelope.payload = payload.toString('base64');
    lines[0] = JSON.stringify(bundle);
    const forged = testTag(created, 'byte');
    await forgeSeal(sealed, forged, `${lines.join('\n')}\n`, sealed, { replaceTop: true });
    await rejects(
      forged,
      /line 1: DSSE signature does not verify with key .* \(the statement or signature was changed\)$/,
    );
  });

  it('tamper: a statement removed', async () => {
    const lines = (await readSeal(sealed)).trimEnd().split('\n');
    lines.splice(1, 1); // the first test-result statement
    const forged = testTag(created, 'removed');
    await forgeSeal(sealed, forged, `${lines.join('\n')}\n`, sealed, { replaceTop: true });
    await rejects(
      forged,
      /the manifest lists a https:\/\/in-toto\.io\/attestation\/test-result\/v0\.1 statement sha256:[0-9a-f]{12}… that is not in the seal/,
    );
  });

  it('tamper: the seal layer and label copied onto another image', async () => {
    const forged = testTag(created, 'copied');
    await forgeSeal(other, forged, await readSeal(sealed), sealed, { replaceTop: false });
    await rejects(forged, /the seal does not belong to this image: .*filesystem layers differ from the sealed ones/);
  });

  it('tamper: one more layer on top', async () => {
    const tag = testTag(created, 'ontop');
    await buildFrom(sealed, ['COPY extra.txt /extra.txt'], tag, { 'extra.txt': 'added after sealing\n' });
    await rejects(tag, /1 layer\(s\) were added on top of the seal layer after sealing$/);
  });

  it('tamper: USER changed after sealing', async () => {
    const tag = testTag(created, 'user');
    await buildFrom(sealed, ['USER root'], tag);
    await rejects(tag, /User changed after sealing \("app" → "root"\)$/);
  });

  it('tamper: ENTRYPOINT changed after sealing', async () => {
    const tag = testTag(created, 'entry');
    await buildFrom(sealed, ['ENTRYPOINT ["/bin/sh"]'], tag);
    await rejects(tag, /Entrypoint changed after sealing \(\["\/bin\/busybox"\] → \["\/bin\/sh"\]\)/);
  });

  it('tamper: a key not in --pub', async () => {
    await rejects(sealed, /signed by key .*, which is not a trusted key \(--pub: /, otherKeys.pubPath);
  });

  it('tamper: a truncated bundle file (verify --bundle --image-config)', async () => {
    const text = readFileSync(join(work, 'seal.jsonl'), 'utf8');
    writeFileSync(join(work, 'truncated.jsonl'), text.slice(0, Math.floor(text.length * 0.8)));
    writeFileSync(join(work, 'config.json'), JSON.stringify([await inspect(sealed)]));
    const good = await cli(
      ['verify', '--bundle', 'seal.jsonl', '--image-config', 'config.json', '--pub', keys.pubPath],
      work,
    );
    expect(good.code).toBe(0);
    const res = await cli(
      ['verify', '--bundle', 'truncated.jsonl', '--image-config', 'config.json', '--pub', keys.pubPath],
      work,
    );
    expect(res.code).toBe(1);
    expect(res.err).toMatch(
      /^sealwatch: truncated\.jsonl \/\.sealwatch\/seal\.jsonl line \d+: truncated JSON \(the file ends mid-line\)\n$/,
    );
  });

  it('policy gates: a failed gate exits 1, names the rule, and does not seal unless --seal-on-fail', async () => {
    const refused = testTag(created, 'refused');
    const res = await cli(
      [
        'seal',
        '--image',
        app,
        '--key',
        keys.keyPath,
        '--tag',
        refused,
        '--deny-executable',
        '*/sshd',
        '--require-tests',
        'security',
        '--junit',
        join(FIX, 'reports/junit-security.xml'),
      ],
      work,
    );
    expect(res.code).toBe(1);
    expect(res.err).toMatch(
      /^sealwatch: policy gate failed: --deny-executable \*\/sshd: denied executable present: \/usr\/sbin\/sshd; image not sealed\n$/,
    );
    expect(res.out).toContain('gate pass: --require-tests security');
    expect((await cli(['verify', '--image', refused, '--pub', keys.pubPath], work)).code).toBe(2); // no such image: a name to fix
    const anyway = await cli(
      [
        'seal',
        '--image',
        app,
        '--key',
        keys.keyPath,
        '--tag',
        refused,
        '--max-severity',
        'medium',
        '--scan',
        join(FIX, 'trivy.json'),
        '--seal-on-fail',
      ],
      work,
    );
    expect(anyway.code).toBe(1);
    expect(anyway.err).toMatch(/sealed anyway: --seal-on-fail/);
    expect((await cli(['verify', '--image', refused, '--pub', keys.pubPath], work)).code).toBe(0);
    const policy = join(work, 'policy.yaml');
    writeFileSync(policy, 'maxSeverity: medium\n');
    const gated = await cli(['verify', '--image', refused, '--pub', keys.pubPath, '--policy', policy], work);
    expect(gated.code).toBe(1);
    expect(gated.err).toMatch(
      /policy gate failed: --max-severity medium: vulnerabilities above medium: 1 high, 1 critical/,
    );
  });

  it('bad input is exit 2 with one line naming the file; a dead engine is exit 3', async () => {
    const broken = await cli(
      ['seal', '--image', app, '--key', keys.keyPath, '--junit', join(FIX, 'reports/broken.xml')],
      work,
    );
    expect(broken.code).toBe(2);
    expect(broken.err).toMatch(/broken\.xml:4:1: invalid XML/);
    const noKey = await cli(['seal', '--image', app, '--key', 'missing.key'], work);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/missing\.key: no such file/);
    const dead = await cli(
      ['verify', '--image', sealed, '--pub', keys.pubPath, '--docker-socket', join(work, 'nope.sock')],
      work,
    );
    expect(dead.code).toBe(3);
    expect(dead.err).toMatch(/Docker engine not reachable/);
  });
});
