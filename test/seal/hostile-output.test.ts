import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { identityMaterial } from '../../shared/image/index.ts';
import { createSeal, formatSealJsonl, makeStatement, PREDICATE, sealSubject } from '../../shared/seal/index.ts';
import { computeImageIdentity } from '../../shared/image/index.ts';
import { cli, makeKeyFiles } from '../harness/seal.ts';

/** Anything a terminal would act on: ESC (CSI), BEL, a C1 CSI, CR, LF, a right-to-left override. */
// eslint-disable-next-line no-control-regex
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;
const SCREEN_CLEAR_THEN_OK = '\u001b[2J\u001b[H\u001b[32mverified: app:1.0\u0007\r\n\u009b31m\u202e';

describe('verify prints nothing a terminal would act on', () => {
  it('a hostile key hint in the bundle: one escaped line, exit 1', async () => {
    const keys = makeKeyFiles();
    const material = identityMaterial(['sha256:' + 'a'.repeat(64)], { User: 'app', Entrypoint: ['/bin/app'] });
    const subject = sealSubject(computeImageIdentity(material), 'app:1.0');
    const { bundles } = createSeal({
      subject,
      statements: [
        makeStatement(subject, PREDICATE.sarifSummary, {
          report: { name: 'x.sarif', digest: { sha256: 'c'.repeat(64) } },
          tool: { name: 'semgrep', version: '1.0' },
          runs: 1,
          results: { error: 0, warning: 0, note: 0, none: 0 },
          rules: [],
        }),
      ],
      image: material,
      sealedAt: '2026-11-26T00:00:00Z',
      toolVersion: '0.1.0',
      key: keys.key,
    });
    for (const b of bundles as unknown as { verificationMaterial: { publicKey: { hint: string } } }[])
      b.verificationMaterial.publicKey.hint = SCREEN_CLEAR_THEN_OK;
    const dir = mkdtempSync(join(tmpdir(), 'sw-hostile-out-'));
    writeFileSync(join(dir, 'seal.jsonl'), formatSealJsonl(bundles));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        rootfs: { diff_ids: ['sha256:' + 'a'.repeat(64)] },
        config: { User: 'app', Entrypoint: ['/bin/app'] },
      }),
    );
    const res = await cli(
      ['verify', '--bundle', 'seal.jsonl', '--image-config', 'config.json', '--pub', keys.pubPath],
      dir,
    );
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/^not verified: seal\.jsonl\n {2}check FAIL: signatures: .*not a trusted key/);
    expect(res.out).not.toMatch(ACTIVE);
    expect(res.err).toMatch(/not a trusted key/);
    expect(res.err).toContain('\\x1b[2J');
    expect(res.err.trimEnd().split('\n')).toHaveLength(1);
    expect(res.err.trimEnd()).not.toMatch(ACTIVE);
  });
});
