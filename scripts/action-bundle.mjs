import { readFileSync } from 'node:fs';
// The GitHub Action: one self-contained file for `runs.using: node24`, committed under dist/action/
// (test/seal/action-bundle.test.ts checks it is current). Dependencies are bundled in.
// Rebuild with: node scripts/build.mjs --action
export const actionBuild = {
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  entryPoints: ['action/main.ts'],
  outfile: 'dist/action/index.mjs',
  bundle: true,
  minify: false,
  legalComments: 'none',
  // ssh2 (through dockerode) loads optional native helpers inside try/catch; without them it uses JS.
  external: ['cpu-features', '*.node'],
  banner: {
    js: [
      "import { createRequire as __sealwatchCreateRequire } from 'node:module';",
      "import { fileURLToPath as __sealwatchFileURLToPath } from 'node:url';",
      "import { dirname as __sealwatchDirname } from 'node:path';",
      'const require = __sealwatchCreateRequire(import.meta.url);',
      'const __filename = __sealwatchFileURLToPath(import.meta.url);',
      'const __dirname = __sealwatchDirname(__filename);',
    ].join(' '),
  },
  define: {
    SEALWATCH_VERSION: JSON.stringify(
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
    ),
  },
};
