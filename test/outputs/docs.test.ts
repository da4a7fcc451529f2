import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORMATTERS, OUTPUT_FORMATS, SINKS } from '../../shared/outputs/index.ts';
import { CEF_KEYS } from '../../shared/outputs/formatters/cef.ts';

const docs = join(import.meta.dirname, '..', '..', 'docs', 'outputs');

describe('output docs stay true to the code', () => {
  it('every output type has its page, linked from the index', () => {
    const index = readFileSync(join(docs, 'index.md'), 'utf8');
    for (const type of Object.keys(SINKS)) {
      expect(existsSync(join(docs, `${type}.md`)), `docs/outputs/${type}.md`).toBe(true);
      expect(index).toContain(`(${type}.md)`);
    }
  });
  it('every format and every CEF key is documented on the formats page', () => {
    const formats = readFileSync(join(docs, 'formats.md'), 'utf8');
    expect(Object.keys(FORMATTERS).sort()).toEqual([...OUTPUT_FORMATS].sort());
    for (const format of OUTPUT_FORMATS) expect(formats).toContain(`\`${format}\``);
    for (const key of Object.keys(CEF_KEYS).filter((k) => !k.endsWith('Label') && !/^cs\d$/.test(k))) {
      expect(formats, `CEF key ${key}`).toContain(`\`${key}\``);
    }
  });
});
