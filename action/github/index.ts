export { githubReporter, noGithub, reportToGithub } from './core-adapter.ts';
export type { GithubReporter } from './core-adapter.ts';
