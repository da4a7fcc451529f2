/**
 * The CI context, detected from environment variables passed in (never read from process.env
 * here): GitHub Actions, Jenkins, GitLab CI, and a generic fallback built from git itself.
 * Pure functions: `detect*(env)` return undefined when the environment is not theirs.
 */
export type CiKind = 'github' | 'jenkins' | 'gitlab' | 'generic';

export interface CiContext {
  ci: CiKind;
  /** SLSA buildType URI. */
  buildType: string;
  /** SLSA builder.id: who ran the build. */
  builderId: string;
  /** Source repository URL (https or git), if known. */
  repository?: string;
  commit?: string;
  /** Branch or tag ref, e.g. refs/heads/main. */
  ref?: string;
  /** URL of this CI run, if the CI has one. */
  runUrl?: string;
  /** CI run identifier (run id + attempt, build number, pipeline id). */
  invocationId?: string;
  /** Workflow / job name. */
  workflow?: string;
  /** Host the build ran on (Jenkins NODE_NAME, GitLab runner). */
  runner?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface GitInfo {
  commit?: string;
  ref?: string;
  remote?: string;
}

const BUILD_TYPE = (ci: CiKind) => `https://sealwatch.dev/buildtypes/${ci}/v1`;
const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function detectGithub(env: Env): CiContext | undefined {
  if (env.GITHUB_ACTIONS !== 'true') return undefined;
  const server = nonEmpty(env.GITHUB_SERVER_URL) ?? 'https://github.com';
  const repo = nonEmpty(env.GITHUB_REPOSITORY);
  const runId = nonEmpty(env.GITHUB_RUN_ID);
  const attempt = nonEmpty(env.GITHUB_RUN_ATTEMPT) ?? '1';
  const workflowRef = nonEmpty(env.GITHUB_WORKFLOW_REF);
  return compact({
    ci: 'github' as const,
    buildType: BUILD_TYPE('github'),
    builderId: workflowRef ? `${server}/${workflowRef}` : `${server}/actions/runner`,
    repository: repo ? `${server}/${repo}` : undefined,
    commit: nonEmpty(env.GITHUB_SHA),
    ref: nonEmpty(env.GITHUB_REF),
    runUrl: repo && runId ? `${server}/${repo}/actions/runs/${runId}/attempts/${attempt}` : undefined,
    invocationId: runId ? `${runId}-${attempt}` : undefined,
    workflow: nonEmpty(env.GITHUB_WORKFLOW),
    runner: nonEmpty(env.RUNNER_NAME),
  });
}

export function detectJenkins(env: Env): CiContext | undefined {
  if (nonEmpty(env.JENKINS_URL) === undefined && !(nonEmpty(env.BUILD_URL) && nonEmpty(env.JOB_NAME))) return undefined;
  const branch = nonEmpty(env.GIT_BRANCH) ?? nonEmpty(env.BRANCH_NAME);
  return compact({
    ci: 'jenkins' as const,
    buildType: BUILD_TYPE('jenkins'),
    builderId: nonEmpty(env.JENKINS_URL) ?? nonEmpty(env.BUILD_URL) ?? 'jenkins',
    repository: nonEmpty(env.GIT_URL),
    commit: nonEmpty(env.GIT_COMMIT),
    ref: branch ? toRef(branch.replace(/^origin\//, '')) : undefined,
    runUrl: nonEmpty(env.BUILD_URL),
    invocationId:
      nonEmpty(env.BUILD_TAG) ??
      (nonEmpty(env.JOB_NAME) && nonEmpty(env.BUILD_NUMBER) ? `${env.JOB_NAME}#${env.BUILD_NUMBER}` : undefined),
    workflow: nonEmpty(env.JOB_NAME),
    runner: nonEmpty(env.NODE_NAME),
  });
}

export function detectGitlab(env: Env): CiContext | undefined {
  if (env.GITLAB_CI !== 'true') return undefined;
  const tag = nonEmpty(env.CI_COMMIT_TAG);
  const branch = nonEmpty(env.CI_COMMIT_BRANCH) ?? nonEmpty(env.CI_COMMIT_REF_NAME);
  return compact({
    ci: 'gitlab' as const,
    buildType: BUILD_TYPE('gitlab'),
    builderId: nonEmpty(env.CI_RUNNER_ID)
      ? `${nonEmpty(env.CI_SERVER_URL) ?? 'gitlab'}/runners/${env.CI_RUNNER_ID}`
      : (nonEmpty(env.CI_SERVER_URL) ?? 'gitlab'),
    repository: nonEmpty(env.CI_PROJECT_URL),
    commit: nonEmpty(env.CI_COMMIT_SHA),
    ref: tag ? `refs/tags/${tag}` : branch ? `refs/heads/${branch}` : undefined,
    runUrl: nonEmpty(env.CI_JOB_URL) ?? nonEmpty(env.CI_PIPELINE_URL),
    invocationId: nonEmpty(env.CI_JOB_ID) ?? nonEmpty(env.CI_PIPELINE_ID),
    workflow: nonEmpty(env.CI_JOB_NAME),
    runner: nonEmpty(env.CI_RUNNER_DESCRIPTION),
  });
}

/** The fallback: what git says about the checkout (read by the caller, passed in). */
export function detectGeneric(env: Env, git: GitInfo): CiContext {
  return compact({
    ci: 'generic' as const,
    buildType: BUILD_TYPE('generic'),
    builderId: nonEmpty(env.SEALWATCH_BUILDER_ID) ?? 'https://sealwatch.dev/builders/local',
    repository: git.remote,
    commit: git.commit,
    ref: git.ref,
  });
}

/** The first CI that claims the environment, else the generic context from git. */
export function detectContext(env: Env, git: GitInfo): CiContext {
  return detectGithub(env) ?? detectJenkins(env) ?? detectGitlab(env) ?? detectGeneric(env, git);
}

function toRef(branch: string): string {
  return branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
}
