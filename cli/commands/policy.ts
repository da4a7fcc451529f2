import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { addFlags, readFlags, type FlagSpec } from '../flags.ts';
import { println, type CommandIo } from '../io.ts';
import { LINT_FLAGS, lintFiles } from './lint.ts';

const TestFlags = z
  .object({
    events: z.string().min(1).describe('events in JSONL, one per line'),
    json: z.boolean().default(false).describe('one JSON object per hit instead of text'),
  })
  .strict();
const TEST_FLAGS: FlagSpec<typeof TestFlags> = { schema: TestFlags, values: { events: 'file' } };

/** `sealwatch policy lint FILE…` and `sealwatch policy test FILE --events EVENTS.jsonl`. */
export function registerPolicy(program: Command, io: CommandIo): void {
  const policy = program
    .command('policy')
    .description('validate and test runtime rule policies (custom rules, disabled ids)');
  const lint = policy
    .command('lint')
    .description('validate Policy or Profile files: one line per problem naming file and field (exit 2 if invalid)')
    .argument('<files...>', 'policy or profile YAML files');
  addFlags(lint, LINT_FLAGS).action(async (files: string[], _opts: unknown, self: Command) => {
    const { json } = readFlags(self, LINT_FLAGS, io);
    const { loadPolicy } = await import('../../sidecar/evaluate/policy-file.ts');
    lintFiles(
      files,
      (file) => {
        const { profile, warnings } = loadPolicy(resolve(io.cwd, file), file);
        return {
          warnings,
          summary: `${profile.rules.custom.length} custom rule(s), ${profile.rules.disable.length} disabled`,
        };
      },
      { json, io },
    );
  });
  const test = policy
    .command('test')
    .description('replay events (JSONL, as written by file:// outputs) and print which rules would fire')
    .argument('<file>', 'policy or profile YAML file');
  addFlags(test, TEST_FLAGS).action(async (file: string, _opts: unknown, self: Command) => {
    const opts = readFlags(self, TEST_FLAGS, io);
    const { loadPolicy, testPolicy } = await import('../../sidecar/evaluate/policy-file.ts');
    const { profile, warnings, isProfile } = loadPolicy(resolve(io.cwd, file), file);
    for (const w of warnings) io.log.warn(w);
    const result = await testPolicy(profile, resolve(io.cwd, opts.events), isProfile);
    for (const { line, hit } of result.hits) {
      if (opts.json) {
        println(
          io.stdout,
          JSON.stringify({ line, rule: hit.rule.id, severity: hit.rule.severity, message: hit.message }),
        );
      } else {
        // the message carries attacker-controlled names: JSON-quote it so control characters cannot forge lines
        println(
          io.stdout,
          `${opts.events}:${line}: ${hit.rule.id} (severity ${hit.rule.severity}) ${JSON.stringify(hit.message)}`,
        );
      }
    }
    for (const s of result.skipped) io.log.note(`${opts.events}:${s.line}: skipped: ${s.reason}`);
    for (const e of result.ruleErrors)
      io.log.note(`${opts.events}:${e.line}: rule ${e.rule} failed: ${JSON.stringify(e.message)}`);
    io.log.note(`${result.events} event(s), ${result.hits.length} hit(s), ${result.skipped.length} line(s) skipped`);
  });
}
