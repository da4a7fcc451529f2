/** The CI side: one seal run (`runSeal`) behind the CLI, the GitHub Action and the Jenkins step. */
export { runSeal, normalizeTag } from './run.ts';
export type { SealDeps, SealResult } from './run.ts';
export { SealInputs, SEAL_INPUT_NAMES, inputKind, fromStringInputs } from './inputs.ts';
export type { SealInputName } from './inputs.ts';
export { formatSummaryText, formatSummaryMarkdown, plain } from './summary/index.ts';
export type { SealSummary } from './summary/index.ts';
export { PolicySpec, evaluateGates } from './policy/index.ts';
export type { GateResult } from './policy/index.ts';
export { readGitInfo } from './context/index.ts';
export { githubReporter, noGithub, reportToGithub } from './github/index.ts';
export type { GithubReporter } from './github/index.ts';
export { sealRunIo } from './run-io.ts';
