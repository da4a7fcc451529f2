// Writes docs/rules.md from the rule metadata (sidecar/evaluate). Usage: npx tsx scripts/gen-rules-doc.ts
import { writeFileSync } from 'node:fs';
import { renderRulesDoc } from '../sidecar/evaluate/rules-doc.ts';

writeFileSync(new URL('../docs/rules.md', import.meta.url), renderRulesDoc());
