import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssues, loadConfigFile, parseConfig } from '../../shared/config/index.ts';
import { ConfigError } from '../../shared/errors/index.ts';
import { profileSpec } from '../../shared/profile/index.ts';

const fixture = (name: string): string => new URL(`../fixtures/profiles/${name}`, import.meta.url).pathname;

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config pattern', () => {
  it('formats each zod issue as one line naming the source and the field path', () => {
    const schema = z.object({ a: z.array(z.object({ b: z.number() })) }).strict();
    const result = schema.safeParse({ a: [{ b: 1 }, { b: 'x' }], c: 1 });
    expect(result.success).toBe(false);
    const lines = formatIssues(result.error!.issues, 'conf.yaml');
    expect(lines).toContain('conf.yaml: a[1].b: Invalid input: expected number, received string');
    expect(lines).toContain('conf.yaml: (root): unknown field "c"');
  });

  it('runs cross-field rules only on a value that passed the schema, and prefixes the source', () => {
    const spec = {
      schema: z.object({ min: z.number(), max: z.number() }),
      rules: (v: { min: number; max: number }) => ({ errors: v.min > v.max ? ['min: must not exceed max'] : [] }),
    };
    expect(parseConfig(spec, { min: 3, max: 1 }, 'x.yaml')).toEqual({
      errors: ['x.yaml: min: must not exceed max'],
      warnings: [],
    });
    expect(parseConfig(spec, { min: 1, max: 3 }, 'x.yaml').value).toEqual({ min: 1, max: 3 });
  });

  it('loads a valid profile with defaults filled in', () => {
    const { value } = loadConfigFile(profileSpec, fixture('valid.yaml'));
    expect(value.processes).toHaveLength(2);
    expect(value.network.listen[0]).toEqual({ port: 8080, protocol: 'tcp' });
    expect(value.rules.custom).toEqual([]);
    expect(value.metadata).toEqual({});
  });

  it('reports every schema problem in a profile, one line each, with the name the user gave', () => {
    const problems = problemsOf(() => loadConfigFile(profileSpec, fixture('invalid.yaml'), 'invalid.yaml'));
    expect(problems).toEqual([
      'invalid.yaml: processes[0].sha256: expected 64 lowercase hex characters (sha256)',
      'invalid.yaml: network.listen[0].port: Invalid input: expected number, received string',
      'invalid.yaml: (root): unknown field "resourcez"',
    ]);
  });

  it('reports cross-field problems (exactly one of cidr/host, a valid CIDR, absolute exe)', () => {
    const problems = problemsOf(() => loadConfigFile(profileSpec, fixture('cross-field.yaml'), 'p.yaml'));
    expect(problems).toEqual([
      'p.yaml: network.egress[0]: set exactly one of "cidr" or "host"',
      'p.yaml: network.egress[0].cidr: "10.20.0.0/33" is not a CIDR block (e.g. 10.0.0.0/8)',
      'p.yaml: processes[0].exe: "node" must be an absolute path or a glob starting with "*"',
    ]);
  });

  it('names the line and column of a YAML syntax error, and a missing file', () => {
    const [syntax] = problemsOf(() => loadConfigFile(profileSpec, fixture('syntax-error.yaml'), 's.yaml'));
    expect(syntax).toMatch(/^s\.yaml:\d+:\d+: /);
    expect(syntax).not.toContain('\n');
    expect(problemsOf(() => loadConfigFile(profileSpec, fixture('missing.yaml'), 'missing.yaml'))).toEqual([
      'missing.yaml: no such file',
    ]);
  });
});
