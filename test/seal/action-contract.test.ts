import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEAL_INPUT_NAMES, SealInputs, fromStringInputs, inputKind } from '../../action/inputs.ts';

const ROOT = join(import.meta.dirname, '../..');
interface ActionYml {
  inputs: Record<string, { description: string; required: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}
const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as ActionYml;

describe('action.yml is the seal input schema, one to one', () => {
  it('has exactly the schema keys, in order', () => {
    expect(Object.keys(action.inputs)).toEqual(SEAL_INPUT_NAMES);
  });

  it('required and defaults agree with the schema', () => {
    for (const name of SEAL_INPUT_NAMES) {
      const absent = SealInputs.shape[name].safeParse(undefined);
      expect(action.inputs[name]!.required, name).toBe(!absent.success);
      const schemaDefault =
        absent.success && absent.data !== undefined && !Array.isArray(absent.data) ? String(absent.data) : undefined;
      expect(action.inputs[name]!.default, name).toBe(schemaDefault);
      expect(action.inputs[name]!.description.length, name).toBeGreaterThan(10);
    }
  });

  it('runs the committed bundle on node24 and declares the step outputs we set', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/action/index.mjs' });
    expect(Object.keys(action.outputs).sort()).toEqual(['bundle-path', 'identity', 'image-id', 'sealed']);
  });

  it('string inputs become typed inputs: lists split on lines and commas, booleans parsed, empty dropped', () => {
    const values: Record<string, string> = {
      image: 'app:1',
      key: 'k.pem',
      junit: 'reports/a.xml\nreports/b.xml, reports/c.xml\n',
      'seal-on-fail': 'true',
      push: 'false',
      tag: '',
    };
    const parsed = SealInputs.parse(fromStringInputs((n) => values[n] ?? ''));
    expect(parsed.junit).toEqual(['reports/a.xml', 'reports/b.xml', 'reports/c.xml']);
    expect(parsed['seal-on-fail']).toBe(true);
    expect(parsed.push).toBe(false);
    expect(parsed.tag).toBeUndefined();
    expect(inputKind('junit')).toBe('list');
    expect(SealInputs.safeParse(fromStringInputs((n) => ({ ...values, push: 'maybe' })[n] ?? '')).success).toBe(false);
  });
});
