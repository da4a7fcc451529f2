export { detectGithub, detectJenkins, detectGitlab, detectGeneric, detectContext } from './detect.ts';
export type { CiContext, CiKind, Env, GitInfo } from './detect.ts';
export { readGitInfo, stripCredentials } from './git.ts';
export { detectBaseImage } from './base-image.ts';
