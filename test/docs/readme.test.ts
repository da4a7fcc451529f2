import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/main.ts';
import { captureIo } from '../harness/cli.ts';

/** The README stays true: its links resolve, its scripts exist, and every command line it shows parses. */
const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** `npx sealwatch …` lines of the README's code blocks, with backslash continuations joined. */
function commandLines(): string[][] {
  const joined = README.replace(/\\\n\s*/g, ' ');
  return [...joined.matchAll(/^\s+npx sealwatch (.+)$/gm)].map((m) =>
    (m[1]!.split('#')[0] ?? '')
      .trim()
      .split(/\s+/)
      .map((w) => w.replace(/^'|'$/g, '')),
  );
}

function findCommand(program: Command, words: string[]): { command: Command; rest: string[] } {
  let command = program;
  let i = 0;
  for (; i < words.length; i++) {
    const sub = command.commands.find((c) => c.name() === words[i]);
    if (!sub) break;
    command = sub;
  }
  return { command, rest: words.slice(i) };
}

describe('README', () => {
  it('every relative link points at a file of the repository', () => {
    const links = [...README.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map((m) => m[1]!)
      .filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(existsSync(resolve(dirname(join(ROOT, 'README.md')), link)), link).toBe(true);
  });

  it('the npm scripts it names exist', () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const [, name] of README.matchAll(/npm run ([a-z0-9:-]+)/g)) expect(Object.keys(scripts)).toContain(name);
    for (const script of ['scripts/setup.sh', 'scripts/start-docker.sh', '.ci/run'])
      expect(existsSync(join(ROOT, script))).toBe(true);
  });

  it.each(commandLines().map((words) => [words.join(' '), words] as const))(
    '`sealwatch %s` names a real command and only its real flags',
    (_line, words) => {
      const program = buildProgram(captureIo().io);
      const { command, rest } = findCommand(program, words);
      expect(command, `no command ${words[0]}`).not.toBe(program);
      const known = new Set(command.options.flatMap((o) => [o.long, o.short].filter(Boolean)));
      for (const word of rest.filter((w) => w.startsWith('-')))
        expect(known, `${command.name()} ${word}`).toContain(word);
    },
  );
});
