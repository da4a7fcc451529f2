import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { WatchFlags } from '../../cli/commands/watch-flags.ts';
import { renderJsonSchemas } from '../../scripts/json-schemas.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { connection, started } from '../sidecar/make-events.ts';

/**
 * docs/examples/: every profile and policy passes `sealwatch profile lint` / `policy lint` without a warning and
 * validates against its published JSON Schema (ajv, an independent validator); the example policies fire on
 * what they are written for and stay quiet on the allowed workload.
 */
const ROOT = new URL('../..', import.meta.url).pathname;
const EXAMPLES = join(ROOT, 'docs/examples');
const files = (name: string): string[] =>
  readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(EXAMPLES, d.name, name));
const profiles = files('profile.yaml');
const policies = files('policy.yaml');

const ajv = new Ajv2020({ strict: false, allErrors: true });
const schemas = renderJsonSchemas();
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
const validator = (name: string): ReturnType<typeof ajv.compile> => {
  if (!compiled.has(name)) compiled.set(name, ajv.compile(JSON.parse(schemas[name]!) as object));
  return compiled.get(name)!;
};
const rel = (f: string): string => relative(ROOT, f);

describe('docs/examples', () => {
  it('has a profile and a policy for nginx, a Node service and a JVM service', () => {
    expect(profiles.map(rel).sort()).toEqual([
      'docs/examples/jvm-service/profile.yaml',
      'docs/examples/nginx/profile.yaml',
      'docs/examples/node-service/profile.yaml',
    ]);
    expect(policies).toHaveLength(3);
  });

  it.each(profiles.map(rel))('%s: profile lint passes, no warning, and the JSON Schema accepts it', async (file) => {
    const run = await runCliCaptured(['profile', 'lint', file], { cwd: ROOT });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const validate = validator('profile.json');
    expect(validate(parse(readFileSync(join(ROOT, file), 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(policies.map(rel))('%s: policy lint passes, no warning, and the JSON Schema accepts it', async (file) => {
    const run = await runCliCaptured(['policy', 'lint', '--json', file], { cwd: ROOT });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, files: [{ file, ok: true, problems: [], warnings: [] }] });
    const validate = validator('policy.json');
    expect(validate(parse(readFileSync(join(ROOT, file), 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('the gates policy and the watch config validate, and sealwatch reads them as the schemas say', () => {
    const gates = parse(readFileSync(join(EXAMPLES, 'gates-policy.yaml'), 'utf8')) as unknown;
    expect(validator('gates-policy.json')(gates)).toBe(true);
    const config = parse(readFileSync(join(EXAMPLES, 'watch-config.yaml'), 'utf8')) as unknown;
    expect(validator('watch-config.json')(config)).toBe(true);
    expect(WatchFlags.safeParse(config).success).toBe(true);
    // and what the schema refuses, sealwatch refuses
    const bad = { ...(config as object), tick: 5, 'dry-runn': true };
    expect(validator('watch-config.json')(bad)).toBe(false);
    expect(WatchFlags.safeParse(bad).success).toBe(false);
  });

  it('the example policies fire on what they are written for, and not on the allowed workload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-examples-'));
    const events = [
      // 1: the JVM runs a shell (Log4Shell)
      started({ pid: 20, name: 'sh', exe: '/usr/bin/dash', args: ['sh', '-c', 'id'] }, { pid: 1, name: 'java' }),
      // 2: the JVM reaches an LDAP server outside
      connection('egress', { remoteIp: '203.0.113.9', remotePort: 389 }, { pid: 1, name: 'java' }),
      // 3: the service's own LDAP directory (the exception)
      connection('egress', { remoteIp: '10.1.2.3', remotePort: 389 }, { pid: 1, name: 'java' }),
      // 4: node shells out
      started({ pid: 21, name: 'bash', exe: '/usr/bin/bash', args: ['bash', '-c', 'x'] }, { pid: 2, name: 'node' }),
      // 5: a worker of nginx starts a program
      started({ pid: 22, name: 'curl', exe: '/usr/bin/curl', args: ['curl', 'x'] }, { pid: 3, name: 'nginx' }),
      // 6: node itself, started by the entrypoint's shell: allowed
      started(
        { pid: 23, name: 'node', exe: '/usr/local/bin/node', args: ['node', 'server.js'] },
        { pid: 1, name: 'sh' },
      ),
    ];
    writeFileSync(join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const hits = async (policy: string): Promise<string[]> => {
      const run = await runCliCaptured(
        ['policy', 'test', join(EXAMPLES, policy), '--events', 'events.jsonl', '--json'],
        {
          cwd: dir,
        },
      );
      expect(run.code, run.stderr).toBe(0);
      const custom = new Set(
        (parse(readFileSync(join(EXAMPLES, policy), 'utf8')) as { rules: Array<{ id: string }> }).rules.map(
          (r) => r.id,
        ),
      );
      return run.stdout
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { line: number; rule: string })
        .filter((h) => custom.has(h.rule))
        .map((h) => `${h.line}:${h.rule}`);
    };
    expect(await hits('jvm-service/policy.yaml')).toEqual(['1:java-spawns-shell', '2:java-ldap-connection']);
    expect(await hits('node-service/policy.yaml')).toEqual(['4:node-spawns-shell']);
    expect(await hits('nginx/policy.yaml')).toEqual(['5:nginx-child-process']);
  });
});
