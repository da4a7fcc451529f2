import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Where a worker thread's code is. Run from the bundle (dist/cli.mjs or one of its dist/chunks/), it is
 * the file scripts/build.mjs made of the thread's entry, `bundle`, beside cli.mjs. Run from the sources
 * (tests, benches under tsx), the entry is compiled here by esbuild (a development dependency, present
 * wherever the sources are) into one self-contained CommonJS script, run with `eval: true`.
 * `callerUrl` is the caller's import.meta.url; `entry` the thread's source, relative to the caller.
 */
export function threadCode(
  callerUrl: string,
  entry: string,
  bundle: string,
): Promise<{ file: string } | { code: string }> {
  const key = `${callerUrl} ${entry}`;
  let code = compiled.get(key);
  if (code === undefined) {
    code = locate(fileURLToPath(callerUrl), entry, bundle);
    compiled.set(key, code);
  }
  return code;
}

/**
 * A file scripts/build.mjs wrote beside cli.mjs, when the caller runs from the bundle (dist/cli.mjs or
 * one of its dist/chunks/); undefined when it runs from the sources.
 */
export function distFile(callerUrl: string, name: string): string | undefined {
  const here = fileURLToPath(callerUrl);
  if (here.endsWith('.ts')) return undefined;
  const dist = basename(dirname(here)) === 'chunks' ? dirname(dirname(here)) : dirname(here);
  return join(dist, name);
}

/** One compilation per entry and process (tests start many reports). */
const compiled = new Map<string, Promise<{ file: string } | { code: string }>>();

async function locate(here: string, entry: string, bundle: string): Promise<{ file: string } | { code: string }> {
  const file = distFile(pathToFileURL(here).href, bundle);
  if (file !== undefined) return { file };
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(dirname(here), entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text };
}
