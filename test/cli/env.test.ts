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
  it('validates a variable like the flag it stands for, naming the variable', async () => {
    const cli = io({ SEALWATCH_LISTEN: 'not-an-address' });
    expect(await runCli(['watch'], cli)).toBe(2);
    expect(cli.err()).toBe('sealwatch: SEALWATCH_LISTEN: HOST:PORT, e.g. 127.0.0.1:9464\n');
    const tick = io({ SEALWATCH_TICK: 'fast' });
    expect(await runCli(['watch', '--', 'true'], tick)).toBe(2);
    expect(tick.err()).toBe('sealwatch: SEALWATCH_TICK: milliseconds, a whole number from 10 to 10000\n');
    const flag = io({});
    expect(await runCli(['watch', '--tick', '5', '--', 'true'], flag)).toBe(2);
    expect(flag.err()).toBe('sealwatch: --tick: milliseconds, a whole number from 10 to 10000\n');
  });

  it('a switch variable is true or false, anything else names the variable', async () => {
    const cli = io({ SEALWATCH_DRY_RUN: 'maybe' });
    expect(await runCli(['watch', '--', 'true'], cli)).toBe(2);
    expect(cli.err()).toBe('sealwatch: SEALWATCH_DRY_RUN: "maybe" is not true or false (1/0, yes/no, on/off)\n');
  });

  it('learn reads its variables too', async () => {
    const cli = io({ SEALWATCH_DURATION: 'soon', SEALWATCH_OUT: '/tmp/p.yaml' });
    expect(await runCli(['learn', '--container', 'app'], cli)).toBe(2);
    expect(cli.err()).toBe('sealwatch: SEALWATCH_DURATION: a duration like 30s, 5m or 1h\n');
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
    expect(cli.out()).toContain('SEALWATCH_PROC_CONNECTOR');
  });
});
