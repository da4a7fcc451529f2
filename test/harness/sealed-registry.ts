import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAppImage } from './images.ts';
import { buildFrom, cli, makeKeyFiles, removeTags } from './seal.ts';
import { startRegistry, type TestRegistry } from './registry.ts';
import { runOk } from './exec.ts';

/**
 * A real docker-registry on 127.0.0.1 holding images sealed by the real `seal` step: `sealed` (tests passed),
 * `failed-tests` (sealed, one suite failed), `unsealed` (the same app, no seal), `tampered` (the sealed image
 * with one file added on top), each as `HOST/admission/app:TAG`. Shared by the admission tests and its bench.
 */
export interface SealedRegistry {
  registry: TestRegistry;
  keys: ReturnType<typeof makeKeyFiles>;
  /** `HOST/admission/app:TAG` per image. */
  refs: Record<'sealed' | 'failedTests' | 'unsealed' | 'tampered', string>;
  /** The manifest digest of each pushed image (`sha256:…`), as the registry serves it. */
  digests: Record<'sealed' | 'failedTests' | 'unsealed' | 'tampered', string>;
  /** A docker config.json with the registry's credentials (what a pull Secret holds). */
  dockerConfig: string;
  /** The same images as local engine tags. */
  localTags: Record<'sealed' | 'failedTests' | 'unsealed' | 'tampered', string>;
  work: string;
  stop(): Promise<void>;
}

const PASSING_JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="integration" tests="2" failures="0" errors="0" skipped="0" time="1.0">
<testcase classname="integration" name="serves /health" time="0.5"/><testcase classname="integration" name="serves /metrics" time="0.5"/>
</testsuite></testsuites>
`;
const FAILING_JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="integration" tests="2" failures="1" errors="0" skipped="0" time="1.0">
<testcase classname="integration" name="serves /health" time="0.5"/><testcase classname="integration" name="serves /metrics" time="0.5"><failure message="expected 200, got 500">at metrics.test.js:12</failure></testcase>
</testsuite></testsuites>
`;

export async function startSealedRegistry(auth: 'basic' | 'bearer' = 'basic'): Promise<SealedRegistry> {
  const work = mkdtempSync(join(tmpdir(), 'sealwatch-admission-'));
  const keys = makeKeyFiles();
  const tags: string[] = [];
  const tag = (what: string) => {
    const t = `sealwatch-test/admission:${what}-${process.pid}`;
    tags.push(t);
    return t;
  };
  writeFileSync(join(work, 'pass.xml'), PASSING_JUNIT);
  writeFileSync(join(work, 'fail.xml'), FAILING_JUNIT);
  const base = await buildAppImage({
    repository: 'sealwatch-test/admission-src',
    files: { '/app/run': 'admission fixture\n' },
  });
  const seal = async (junit: string, to: string): Promise<void> => {
    const res = await cli(['seal', '--image', base, '--key', keys.keyPath, '--tag', to, '--junit', junit], work);
    if (res.code !== 0) throw new Error(`seal failed (${res.code}): ${res.err}`);
  };
  const local = {
    sealed: tag('sealed'),
    failedTests: tag('failed-tests'),
    unsealed: tag('unsealed'),
    tampered: tag('tampered'),
  };
  await seal(join(work, 'pass.xml'), local.sealed);
  await seal(join(work, 'fail.xml'), local.failedTests);
  await runOk('docker', ['tag', base, local.unsealed]);
  await buildFrom(local.sealed, ['COPY extra /app/extra'], local.tampered, { extra: 'added after sealing\n' });

  const registry = await startRegistry(auth);
  const refs = {} as SealedRegistry['refs'];
  const digests = {} as SealedRegistry['digests'];
  for (const [name, localTag] of Object.entries(local) as [keyof typeof local, string][]) {
    const remote = `admission/app:${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    await registry.push(localTag, remote);
    refs[name] = `${registry.host}/${remote}`;
    const inspect = await runOk('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--creds',
      `${registry.username}:${registry.password}`,
      '--format',
      '{{.Digest}}',
      `docker://${refs[name]}`,
    ]);
    digests[name] = inspect.trim();
  }
  const dockerConfig = join(work, 'config.json');
  writeFileSync(
    dockerConfig,
    JSON.stringify({
      auths: {
        [registry.host]: { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') },
      },
    }),
  );
  return {
    registry,
    keys,
    refs,
    digests,
    dockerConfig,
    localTags: local,
    work,
    stop: async () => {
      await registry.stop();
      await removeTags(tags);
      rmSync(work, { recursive: true, force: true });
      rmSync(keys.dir, { recursive: true, force: true });
    },
  };
}
