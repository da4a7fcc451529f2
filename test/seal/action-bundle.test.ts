import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { run } from '../harness/exec.ts';
import { makeKeyFiles } from './helpers.ts';
import { removeTags, testTag } from './docker-helpers.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('dist/action/index.mjs', () => {
  it('is current: rebuilding from source gives the committed bytes (node scripts/build.mjs --action, then commit)', async () => {
    // @ts-expect-error: a plain .mjs config without types
    const { actionBuild } = (await import('../../scripts/action-bundle.mjs')) as { actionBuild: object };
    const result = await build({ ...actionBuild, absWorkingDir: ROOT, write: false });
    const built = result.outputFiles[0]!.text;
    const committed = readFileSync(join(ROOT, 'dist/action/index.mjs'), 'utf8');
    expect(
      built === committed,
      'dist/action/index.mjs is stale: run node scripts/build.mjs --action and commit it',
    ).toBe(true);
  });
});

describeDocker('the GitHub Action bundle, run as the runner runs it', () => {
  const created: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-action-'));
  afterAll(async () => {
    await removeTags(created);
    rmSync(dir, { recursive: true, force: true });
  });

  it('seals with inputs from INPUT_* env, writes step outputs and a job summary', async () => {
    const keys = makeKeyFiles();
    const image = await buildAppImage({ repository: 'sealwatch-test/seal-action' });
    const tag = testTag(created, 'action');
    writeFileSync(join(dir, 'out'), '');
    writeFileSync(join(dir, 'summary.md'), '');
    const res = await run(process.execPath, [join(ROOT, 'dist/action/index.mjs')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        INPUT_IMAGE: image,
        // the PEM text itself, as a secret would be passed
        INPUT_KEY: readFileSync(keys.keyPath, 'utf8'),
        INPUT_TAG: tag,
        'INPUT_DENY-EXECUTABLE': '*/sshd\n*/nc',
        'INPUT_BUNDLE-OUT': 'seal.jsonl',
        GITHUB_ACTIONS: 'true',
        GITHUB_OUTPUT: join(dir, 'out'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
        GITHUB_REPOSITORY: 'org/app',
        GITHUB_SHA: 'abc123',
        GITHUB_RUN_ID: '5',
      },
    });
    // busybox's nc applet is a symlink to an executable: the second gate fails, the image is not sealed
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('gate FAIL: --deny-executable */nc: denied executable present: /bin/nc');
    expect(res.stdout.includes('\u001b[')).toBe(false); // no ANSI when not a TTY
    const outputs = readFileSync(join(dir, 'out'), 'utf8');
    expect(outputs).toMatch(/sealed<<[^\n]+\nfalse\n/);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('| deny-executable | `*/nc` | ❌');

    const ok = await run(process.execPath, [join(ROOT, 'dist/action/index.mjs')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        INPUT_IMAGE: image,
        INPUT_KEY: keys.keyPath,
        INPUT_TAG: tag,
        'INPUT_BUNDLE-OUT': 'seal.jsonl',
        GITHUB_ACTIONS: 'true',
        GITHUB_OUTPUT: join(dir, 'out'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
      },
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const after = readFileSync(join(dir, 'out'), 'utf8');
    expect(after).toMatch(/image-id<<[^\n]+\nsha256:[0-9a-f]{64}\n/);
    expect(after).toMatch(/identity<<[^\n]+\nsha256:[0-9a-f]{64}\n/);
    expect(after).toContain(join(dir, 'seal.jsonl'));
    expect(readFileSync(join(dir, 'seal.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  });
});
