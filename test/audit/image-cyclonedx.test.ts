import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseSealJsonl, verifySeal } from '../../shared/seal/index.ts';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { cli, makeKeyFiles, removeTags, testTag } from '../harness/seal.ts';
import { DPKG } from '../seal/helpers.ts';
import { createDockerClient } from '../../shared/docker/index.ts';

/** CycloneDX's own JSON schema validator (strict, spec 1.6), not ours, judges what we export. */
async function cyclonedxErrors(text: string): Promise<unknown> {
  return new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text);
}

describeDocker('the sealed inventory as CycloneDX 1.6 (real engine, CycloneDX validator)', () => {
  const created: string[] = [];
  const keys = makeKeyFiles();
  let work: string;
  let withSbom: string;
  let withoutSbom: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sw-cyclonedx-'));
    const base = await buildAppImage({
      repository: 'sealwatch-test/cyclonedx',
      files: {
        '/var/lib/dpkg/status': DPKG,
        '/usr/sbin/sshd': { content: '#!/bin/sh\n', mode: 0o755 },
      },
    });
    withSbom = testTag(created, 'sbom');
    withoutSbom = testTag(created, 'no-sbom');
    for (const [tag, extra] of [
      [withSbom, ['--sbom']],
      [withoutSbom, []],
    ] as const) {
      const res = await cli(['seal', '--image', base, '--key', keys.keyPath, '--tag', tag, ...extra], work);
      expect(res.code, res.err).toBe(0);
    }
  });
  afterAll(async () => {
    await removeTags(created);
    rmSync(work, { recursive: true, force: true });
  });

  it('audit image --format cyclonedx validates against CycloneDX 1.6 and names packages, executables and the image', async () => {
    const res = await cli(['audit', 'image', withoutSbom, '--pub', keys.pubPath, '--format', 'cyclonedx'], work);
    expect(res.code, res.err).toBe(0);
    expect(await cyclonedxErrors(res.out)).toBeNull();
    const bom = JSON.parse(res.out) as {
      metadata: { component: unknown };
      components: { name: string; hashes?: { alg: string; content: string }[] }[];
    };
    expect(bom.metadata.component).toMatchObject({ type: 'container', name: withoutSbom });
    expect(bom.components).toContainEqual(
      expect.objectContaining({
        type: 'library',
        name: 'openssh-server',
        version: '1:9.2p1-2+deb12u3',
        purl: 'pkg:deb/debian/openssh-server@1%3A9.2p1-2%2Bdeb12u3?arch=amd64',
      }),
    );
    const sshd = bom.components.find((c) => c.name === '/usr/sbin/sshd');
    expect(sshd?.hashes?.[0]).toMatchObject({ alg: 'SHA-256', content: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('seal --sbom signs the same BOM into the seal as an in-toto statement; audit prints the signed one', async () => {
    const text = (await createDockerClient().readImageFile(withSbom, '/.sealwatch/seal.jsonl'))!.toString('utf8');
    const seal = verifySeal(parseSealJsonl(text, 'seal'), { trustedKeys: [keys.pubPem] });
    expect(seal.sbom?.predicateType).toBe('https://cyclonedx.org/bom');
    expect(await cyclonedxErrors(JSON.stringify(seal.sbom!.predicate))).toBeNull();
    const res = await cli(['audit', 'image', withSbom, '--pub', keys.pubPath, '--format', 'cyclonedx'], work);
    expect(res.code, res.err).toBe(0);
    expect(JSON.parse(res.out)).toEqual(seal.sbom!.predicate);
  });
});
