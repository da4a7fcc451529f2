import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderJsonSchemas } from '../../shared/schemas.ts';

describe('published JSON Schemas', () => {
  it.each(Object.entries(renderJsonSchemas()))(
    'docs/schema/%s matches the zod schema (run `npm run schemas`)',
    (name, content) => {
      const committed = readFileSync(new URL(`../../docs/schema/${name}`, import.meta.url), 'utf8');
      expect(committed).toBe(content);
    },
  );

  it('the profile schema requires apiVersion and kind and forbids unknown keys', () => {
    const profile = JSON.parse(renderJsonSchemas()['profile.json']!) as {
      required: string[];
      additionalProperties: boolean;
    };
    expect(profile.required).toEqual(expect.arrayContaining(['apiVersion', 'kind']));
    expect(profile.additionalProperties).toBe(false);
  });
});
