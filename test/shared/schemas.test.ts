import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { renderJsonSchemas } from '../../scripts/json-schemas.ts';

describe('published JSON Schemas', () => {
  it.each(Object.entries(renderJsonSchemas()))(
    'docs/schema/%s matches the zod schema (run `npm run schemas`)',
    (name, content) => {
      const committed = readFileSync(new URL(`../../docs/schema/${name}`, import.meta.url), 'utf8');
      expect(committed).toBe(content);
    },
  );

  it('publishes the files sealwatch reads (profile, policies, the watch and learn config) and its event', () => {
    expect(Object.keys(renderJsonSchemas()).sort()).toEqual([
      'admission-config.json',
      'event.json',
      'gates-policy.json',
      'learn-config.json',
      'policy.json',
      'profile.json',
      'watch-config.json',
    ]);
  });

  it.each(Object.entries(renderJsonSchemas()))('%s is a valid JSON Schema (2020-12) for ajv', (_name, content) => {
    expect(() => new Ajv2020({ strict: false }).compile(JSON.parse(content) as object)).not.toThrow();
  });

  it('the watch config schema names every flag of watch, and only those', () => {
    const schema = JSON.parse(renderJsonSchemas()['watch-config.json']!) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['tick', 'output', 'mode', 'proc-connector']),
    );
    expect(schema.properties).not.toHaveProperty('config');
  });

  it('the profile schema requires apiVersion and kind and forbids unknown keys', () => {
    const profile = JSON.parse(renderJsonSchemas()['profile.json']!) as {
      required: string[];
      additionalProperties: boolean;
    };
    expect(profile.required).toEqual(expect.arrayContaining(['apiVersion', 'kind']));
    expect(profile.additionalProperties).toBe(false);
  });
});
