import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/main.ts';
import { completionScript, type Shell } from '../../cli/completion.ts';
import { captureIo, runCliCaptured } from '../harness/cli.ts';

/**
 * `sealwatch completion bash|zsh|fish`, each script run by its real shell: bash through its completion function
 * (COMP_WORDS/COMP_CWORD, as readline calls it), fish through `complete -C` (fish's own completion engine), zsh
 * through its function with the completion system's builtins (compadd, _describe, _files) replaced by fakes that
 * print what they were given (zsh offers no way to complete outside an interactive line editor).
 * With SEALWATCH_REQUIRE_SHELLS=1 (.ci/run; setup.sh installs zsh and fish) a missing shell fails the suite.
 */
const dir = mkdtempSync(join(tmpdir(), 'sw-completion-'));
const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;
const script = (shell: Shell): string => {
  const file = join(dir, `sealwatch.${shell}`);
  writeFileSync(file, completionScript(buildProgram(captureIo().io), shell));
  return file;
};

function describeShell(shell: Shell, fn: (file: string) => void): void {
  if (has(shell)) {
    describe(`${shell} completion`, () => fn(script(shell)));
  } else if (process.env.SEALWATCH_REQUIRE_SHELLS === '1') {
    describe(`${shell} completion`, () => {
      it(`needs ${shell}`, () => {
        throw new Error(`SEALWATCH_REQUIRE_SHELLS=1 but ${shell} is not installed (Debian package ${shell})`);
      });
    });
  } else {
    describe.skip(`${shell} completion (skipped: ${shell} is not installed)`, () => undefined);
  }
}

it('sealwatch completion prints the script for the shell; another shell is one usage line', async () => {
  const bash = await runCliCaptured(['completion', 'bash']);
  expect(bash.code).toBe(0);
  expect(bash.stdout).toContain('complete -F _sealwatch sealwatch');
  const zsh = await runCliCaptured(['completion', 'zsh']);
  expect(zsh.stdout.startsWith('#compdef sealwatch\n')).toBe(true);
  const bad = await runCliCaptured(['completion', 'tcsh']);
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
});

describeShell('bash', (file) => {
  const complete = (...words: string[]): string[] => {
    const out = execFileSync(
      'bash',
      [
        '-c',
        `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _sealwatch; printf '%s\\n' "\${COMPREPLY[@]}"`,
        file,
        ...words,
      ],
      { encoding: 'utf8' },
    );
    return out.split('\n').filter((l) => l !== '');
  };

  it('completes commands, subcommands, flags and enum values from the command tree', () => {
    expect(complete('sealwatch', 'wat')).toEqual(['watch']);
    expect(complete('sealwatch', 'audit', 're')).toEqual(['report']);
    expect(complete('sealwatch', 'watch', '--mo')).toEqual(['--mode']);
    expect(complete('sealwatch', 'watch', '--mode', '')).toEqual(['learn', 'monitor', 'enforce']);
    expect(complete('sealwatch', 'watch', '--tick', '100', '--emit', 'a')).toEqual(['alerts', 'all']);
    expect(complete('sealwatch', 'audit', 'report', '--format', '')).toEqual(['md', 'html', 'csv', 'json']);
    expect(complete('sealwatch', 'profile', 'lint', '--j')).toEqual(['--json']);
  });

  it('global flags complete under every command, with their values', () => {
    expect(complete('sealwatch', 'verify', '--log-')).toEqual(['--log-level', '--log-format']);
    expect(complete('sealwatch', 'seal', '--log-format', '')).toEqual(['text', 'json']);
  });

  it('a file flag completes files; after -- nothing of ours is offered', () => {
    writeFileSync(join(dir, 'profile-a.yaml'), '');
    expect(complete('sealwatch', 'watch', '--profile', join(dir, 'profile-'))).toEqual([join(dir, 'profile-a.yaml')]);
    expect(complete('sealwatch', 'watch', '--', '--mo')).toEqual([]);
  });
});

describeShell('fish', (file) => {
  const complete = (line: string): string[] =>
    execFileSync('fish', ['-c', `source '${file}'; complete -C '${line}'`], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t')[0]!);

  it('completes commands, subcommands, flags and enum values from the command tree', () => {
    expect(complete('sealwatch wat')).toEqual(['watch']);
    expect(complete('sealwatch audit re')).toEqual(['report']);
    expect(complete('sealwatch watch --mo')).toEqual(['--mode']);
    expect(complete('sealwatch watch --mode ').sort()).toEqual(['enforce', 'learn', 'monitor']);
    expect(complete('sealwatch watch --tick 100 --emit ').sort()).toEqual(['alerts', 'all']);
    expect(complete('sealwatch verify --log-f')).toEqual(['--log-format']);
    expect(complete('sealwatch profile lint --j')).toEqual(['--json']);
  });
});

describeShell('zsh', (file) => {
  // fakes of zsh's completion builtins, which run only inside the line editor: each prints what it was given
  const fakes = [
    'compdef() { :; }',
    '_describe() { local -a described; described=("${(@P)4}"); print -l -- "${described[@]%%:*}"; }',
    'compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }',
    '_files() { print -- "(files $*)"; }',
    '_normal() { print -- "(normal ${words[*]})"; }',
    '_message() { print -- "(message)"; }',
  ].join('\n');
  const complete = (...words: string[]): string[] =>
    execFileSync('zsh', ['-f', '-c', `${fakes}\nsource "$0"\nwords=("$@"); CURRENT=$#; _sealwatch`, file, ...words], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((l) => l !== '');

  it('completes commands, subcommands and flags with descriptions, and enum values', () => {
    expect(complete('sealwatch', 'wat')).toContain('watch');
    expect(complete('sealwatch', 'wat')).toContain('learn');
    expect(complete('sealwatch', 'audit', 're')).toEqual(['report', 'image', 'diff', 'verify-log', 'latest']);
    expect(complete('sealwatch', 'watch', '--mo')).toEqual(expect.arrayContaining(['--mode', '--tick', '--log-level']));
    expect(complete('sealwatch', 'watch', '--mode', '')).toEqual(['learn', 'monitor', 'enforce']);
    expect(complete('sealwatch', 'audit', 'report', '--format', '')).toEqual(['md', 'html', 'csv', 'json']);
  });

  it('a file flag completes files; after -- the watched command is completed as a command line', () => {
    expect(complete('sealwatch', 'watch', '--profile', '')).toEqual(['(files )']);
    expect(complete('sealwatch', 'watch', '--', 'l')).toEqual(['(normal l)']);
  });
});
