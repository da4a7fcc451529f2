import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../shared/errors/index.ts';
import { println, type CliIo } from '../io.ts';

/** `sealwatch policy lint FILE…` and `sealwatch policy test FILE --events EVENTS.jsonl`. */
export function registerPolicy(program: Command, io: CliIo): void {
  const policy = program
    .command('policy')
    .description('validate and test runtime rule policies (custom rules, disabled ids)');
  policy
    .command('lint')
    .description('validate Policy or Profile files: one line per problem naming file and field (exit 2 if invalid)')
    .argument('<files...>', 'policy or profile YAML files')
    .action(async (files: string[]) => {
      const { loadPolicy } = await import('../../sidecar/evaluate/policy-file.ts');
      const problems: string[] = [];
      for (const file of files) {
        try {
          const { profile, warnings } = loadPolicy(resolve(io.cwd, file), file);
          for (const w of warnings) println(io.stderr, `warning: ${w}`);
          println(
            io.stdout,
            `${file}: ok (${profile.rules.custom.length} custom rule(s), ${profile.rules.disable.length} disabled)`,
          );
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          problems.push(...error.problems);
        }
      }
      if (problems.length > 0) throw new ConfigError('INVALID', `${problems.length} problem(s) found`, { problems });
    });
  policy
    .command('test')
    .description('replay events (JSONL, as written by file:// outputs) and print which rules would fire')
    .argument('<file>', 'policy or profile YAML file')
    .requiredOption('--events <file>', 'events in JSONL, one per line')
    .option('--json', 'one JSON object per hit instead of text')
    .action(async (file: string, opts: { events: string; json?: boolean }) => {
      const { loadPolicy, testPolicy } = await import('../../sidecar/evaluate/policy-file.ts');
      const { profile, warnings, isProfile } = loadPolicy(resolve(io.cwd, file), file);
      for (const w of warnings) println(io.stderr, `warning: ${w}`);
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
      for (const s of result.skipped) println(io.stderr, `${opts.events}:${s.line}: skipped: ${s.reason}`);
      for (const e of result.ruleErrors)
        println(io.stderr, `${opts.events}:${e.line}: rule ${e.rule} failed: ${JSON.stringify(e.message)}`);
      println(
        io.stderr,
        `${result.events} event(s), ${result.hits.length} hit(s), ${result.skipped.length} line(s) skipped`,
      );
    });
}
