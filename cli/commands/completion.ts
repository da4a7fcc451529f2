import { Argument, type Command } from 'commander';
import { completionScript, SHELLS, type Shell } from '../completion.ts';
import type { CommandIo } from '../io.ts';

/** `sealwatch completion bash|zsh|fish`: the shell's completion script, generated from the command tree. */
export function registerCompletion(program: Command, io: CommandIo): void {
  program
    .command('completion')
    .description(
      'print the shell completion script (bash, zsh or fish) for every command and flag:\n' +
        '  sealwatch completion bash > /etc/bash_completion.d/sealwatch\n' +
        '  sealwatch completion zsh > "${fpath[1]}/_sealwatch"\n' +
        '  sealwatch completion fish > ~/.config/fish/completions/sealwatch.fish',
    )
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: Shell) => {
      io.stdout.write(completionScript(program, shell));
    });
}
