import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.ts';
import type { CliIo } from '../../cli/io.ts';

/** The container way to configure `sealwatch watch`: SEALWATCH_* variables, validated like the flags. */
function io(env: Record<string, string>): CliIo & { err: () => string; out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { stdout, stderr, env, cwd: process.cwd(), err: () => err, out: () => out };
}

describe('sealwatch watch: configuration by SEALWATCH_* environment variables', () => {
  it('validates a variable like the flag it stands for, naming the flag', async () => {
    const cli = io({ SEALWATCH_LISTEN: 'not-an-address' });
    expect(await runCli(['watch'], cli)).toBe(2);
    expect(cli.err()).toContain('--listen: ADDR:PORT');
  });

  it('applies variables (a boolean one here) and the cross-flag rules see them', async () => {
    const cli = io({ SEALWATCH_DRY_RUN: 'true' });
    expect(await runCli(['watch'], cli)).toBe(2);
    expect(cli.err()).toContain('--dry-run only makes sense with --mode enforce');
  });

  it('a flag wins over its variable', async () => {
    const cli = io({ SEALWATCH_MODE: 'bogus', SEALWATCH_DRY_RUN: '1' });
    expect(await runCli(['watch', '--mode', 'monitor'], cli)).toBe(2);
    // SEALWATCH_MODE=bogus would have failed validation first; the flag's value was used instead.
    expect(cli.err()).toMatch(/^sealwatch: --dry-run only makes sense/);
  });

  it('lists the variable names in --help', async () => {
    const cli = io({});
    expect(await runCli(['watch', '--help'], cli)).toBe(0);
    expect(cli.out()).toContain('SEALWATCH_LISTEN');
    expect(cli.out()).toContain('SEALWATCH_OUTPUT');
  });
});
