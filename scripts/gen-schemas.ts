// Rewrites docs/schema/*.json from the zod schemas. Usage: npm run schemas
import { writeFileSync } from 'node:fs';
import { renderJsonSchemas } from './json-schemas.ts';

for (const [name, content] of Object.entries(renderJsonSchemas())) {
  writeFileSync(new URL(`../docs/schema/${name}`, import.meta.url), content);
  console.log(`docs/schema/${name}`);
}
