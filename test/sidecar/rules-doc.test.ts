import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRulesDoc } from '../../sidecar/evaluate/rules-doc.ts';
import { BUILTIN_RULES } from '../../sidecar/evaluate/index.ts';

describe('docs/rules.md', () => {
  it('is current with the rules metadata (run `npx tsx scripts/gen-rules-doc.ts`)', () => {
    expect(readFileSync(new URL('../../docs/rules.md', import.meta.url), 'utf8')).toBe(renderRulesDoc());
  });
  it('names every built-in rule', () => {
    const doc = renderRulesDoc();
    for (const r of BUILTIN_RULES) expect(doc).toContain(`\`${r.meta.id}\``);
  });
});
