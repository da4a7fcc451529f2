import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/main.ts';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';

/** The getting-started pages and deploy READMEs stay true: links resolve, flags and variables exist. */
const pages = [
  ...readdirSync(join(REPO_ROOT, 'docs/getting-started')).map((f) => `docs/getting-started/${f}`),
  ...['kubernetes', 'compose', 'ecs', 'swarm', 'image'].map((d) => `deploy/${d}/README.md`),
];

function watchFlags(): Set<string> {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: REPO_ROOT };
  const watch = buildProgram(io).commands.find((c) => c.name() === 'watch')!;
  return new Set(watch.options.flatMap((o) => (o.long ? [o.long] : [])));
}

describe('getting-started docs', () => {
  it.each(pages)('%s: every relative link points at a file of the repository', (page) => {
    const text = readFileSync(join(REPO_ROOT, page), 'utf8');
    const links = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    for (const link of links)
      expect(existsSync(resolve(dirname(join(REPO_ROOT, page)), link)), `${page} → ${link}`).toBe(true);
  });

  it('every `sealwatch watch --flag` and SEALWATCH_<FLAG> they name is a real watch option', () => {
    const flags = new Set([...watchFlags(), '--help']);
    const envNames = new Set([...flags].map((f) => `SEALWATCH_${f.slice(2).replaceAll('-', '_').toUpperCase()}`));
    // compose-file variables and output credentials, not watch flags
    const notFlags = new Set([
      'SEALWATCH_IMAGE',
      'SEALWATCH_API_PORT',
      'SEALWATCH_PUB_FILE',
      'SEALWATCH_HEC_TOKEN',
      'SEALWATCH_KEY',
      'SEALWATCH_FLAG',
    ]);
    for (const page of pages) {
      const text = readFileSync(join(REPO_ROOT, page), 'utf8');
      for (const m of text.matchAll(/\bSEALWATCH_[A-Z_]+\b/g))
        if (!notFlags.has(m[0])) expect(envNames, `${page}: ${m[0]}`).toContain(m[0]);
      for (const m of text.matchAll(/sealwatch watch ((?:--?[a-z-]+(?: [^\s`-][^\s`]*)? ?)+)/g))
        for (const flag of m[1]!.match(/--[a-z-]+/g) ?? []) expect(flags, `${page}: ${flag}`).toContain(flag);
    }
  });
});
