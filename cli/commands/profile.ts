import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../../shared/config/index.ts';
import { profileSpec } from '../../shared/profile/index.ts';
import { addFlags, readFlags } from '../flags.ts';
import type { CommandIo } from '../io.ts';
import { LINT_FLAGS, lintFiles } from './lint.ts';

export function registerProfile(program: Command, io: CommandIo): void {
  const profile = program.command('profile').description('work with runtime behaviour profiles');
  const lint = profile
    .command('lint')
    .description('validate profile files; one line per problem naming the file and field (exit 2 if any is invalid)')
    .argument('<files...>', 'profile YAML or JSON files');
  addFlags(lint, LINT_FLAGS).action((files: string[], _opts: unknown, self: Command) => {
    const { json } = readFlags(self, LINT_FLAGS, io);
    lintFiles(files, (file) => loadConfigFile(profileSpec, resolve(io.cwd, file), file), { json, io });
  });
}
