import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';

/**
 * Every workflow under .github/workflows/ (and action.yml) is checked with GitHub's own parser,
 * @actions/workflow-parser: the schema GitHub validates against, expressions included.
 */
const WORKFLOWS = join(REPO_ROOT, '.github/workflows');
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value === undefined || errors.length > 0) return errors;
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return (template.errors ?? []).map((e) => e.Message);
}

describe('GitHub workflows', () => {
  it('there is at least the release workflow', () => {
    expect(files).toContain('release.yml');
  });

  it.each(files)('%s validates against the workflow schema', async (file) => {
    const errors = await workflowErrors(file, readFileSync(join(WORKFLOWS, file), 'utf8'));
    expect(errors).toEqual([]);
  });

  it('the validator is not a rubber stamp: a broken workflow is rejected', async () => {
    const broken = [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo ${{ github.sha }',
      '        uses: actions/checkout@v4',
      '      - rnu: oops',
    ].join('\n');
    expect((await workflowErrors('broken.yml', broken)).length).toBeGreaterThan(0);
  });

  it('action.yml validates against the action schema', () => {
    const parsed = parseAction(
      { name: 'action.yml', content: readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8') },
      new NoOperationTraceWriter(),
    );
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const action = convertActionTemplate(parsed.context, parsed.value!);
    expect(action.runs).toMatchObject({ using: 'node24', main: 'dist/action/index.mjs' });
  });

  it('release.yml builds with `npm run image`, seals with this Action, pushes to GHCR and moves the major tag', async () => {
    const content = readFileSync(join(WORKFLOWS, 'release.yml'), 'utf8');
    const parsed = parseWorkflow({ name: 'release.yml', content }, new NoOperationTraceWriter());
    const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
    const job = template.jobs.find((j) => j.id.value === 'image');
    expect(job?.type).toBe('job');
    const steps = job && 'steps' in job ? job.steps : [];
    const runs = steps.map((s) => ('run' in s ? s.run.toString() : ''));
    const uses = steps.map((s) => ('uses' in s ? s.uses.value : ''));
    const order = (what: RegExp | string): number =>
      Math.max(
        runs.findIndex((r) => (typeof what === 'string' ? r.includes(what) : what.test(r))),
        uses.indexOf(typeof what === 'string' ? what : ''),
      );
    const build = order('npm run image');
    const seal = order('./');
    const verify = order('sealwatch.js verify');
    const push = order('docker push');
    const major = order(/git push --force origin "refs\/tags\/\$MAJOR"/);
    expect([build, seal, verify, push, major].every((i) => i >= 0)).toBe(true);
    expect(build < seal && seal < verify && verify < push && push < major).toBe(true);
    expect(content).toMatch(/image=ghcr\.io\//);
    expect(content).toContain('packages: write');
    expect(content).toContain('contents: write');
    expect(template.events).toMatchObject({ push: { tags: ['v[0-9]+.[0-9]+.[0-9]+'] } });
  });
});
