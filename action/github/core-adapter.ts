import * as core from '@actions/core';

/**
 * The one file that imports @actions/core. Everything the seal step tells GitHub goes through
 * this interface: step outputs, the job summary, failure. Outside GitHub, use `noGithub`.
 */
export interface GithubReporter {
  readonly active: boolean;
  getInput(name: string): string;
  setOutput(name: string, value: string): void;
  /** Appends Markdown to the job summary. */
  addSummary(markdown: string): Promise<void>;
  setFailed(message: string): void;
}

export function githubReporter(): GithubReporter {
  return {
    active: true,
    getInput: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    addSummary: async (markdown) => {
      await core.summary.addRaw(markdown, true).write();
    },
    setFailed: (message) => core.setFailed(message),
  };
}

/** For runs outside GitHub Actions: does nothing. */
export const noGithub: GithubReporter = {
  active: false,
  getInput: () => '',
  setOutput: () => undefined,
  addSummary: () => Promise.resolve(),
  setFailed: () => undefined,
};

/** Writes the step outputs and job summary of a seal run. */
export async function reportToGithub(
  github: GithubReporter,
  outputs: { imageId?: string; identity: string; bundlePath?: string; sealed: boolean },
  markdown: string,
): Promise<void> {
  if (!github.active) return;
  github.setOutput('image-id', outputs.imageId ?? '');
  github.setOutput('identity', outputs.identity);
  github.setOutput('bundle-path', outputs.bundlePath ?? '');
  github.setOutput('sealed', String(outputs.sealed));
  await github.addSummary(markdown);
}
