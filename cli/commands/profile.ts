import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../../shared/config/index.ts';
import { ConfigError } from '../../shared/errors/index.ts';
import { profileSpec } from '../../shared/profile/index.ts';
import { println, type CliIo } from '../io.ts';

export function registerProfile(program: Command, io: CliIo): void {
  const profile = program.command('profile').description('work with runtime behaviour profiles');
  profile
    .command('lint')
    .description('validate profile files; one line per problem naming the file and field (exit 2 if any is invalid)')
    .argument('<files...>', 'profile YAML or JSON files')
    .action((files: string[]) => {
      const problems: string[] = [];
      for (const file of files) {
        try {
          const { warnings } = loadConfigFile(profileSpec, resolve(io.cwd, file), file);
          for (const w of warnings) println(io.stderr, `warning: ${w}`);
          println(io.stdout, `${file}: ok`);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          problems.push(...error.problems);
        }
      }
      if (problems.length > 0) {
        throw new ConfigError('INVALID', `${problems.length} problem(s) found`, { problems });
      }
    });
}
