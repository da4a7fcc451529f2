import { execFile } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/sealwatch.js', import.meta.url).pathname;
const fixture = (name: string): string => new URL(`../fixtures/profiles/${name}`, import.meta.url).pathname;

/** Runs the real `sealwatch` binary (dist/ is built by the global setup). */
function sealwatch(args: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd }, (error, stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

function opensslAccepts(args: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile('openssl', args, (error) => resolve(error === null)));
}

describe('sealwatch CLI', () => {
  it('prints help and version with exit 0', async () => {
    const help = await sealwatch(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 verification failed');
    const version = await sealwatch(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on an unknown command or flag, with one line naming it', async () => {
    const command = await sealwatch(['frobnicate']);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe("sealwatch: unknown command 'frobnicate'; see sealwatch --help\n");
    const bad = await sealwatch(['keygen', '--out', 'x', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("sealwatch keygen: unknown option '--nope'; see sealwatch keygen --help\n");
    const typo = await sealwatch(['watch', '--tik', '20']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      "sealwatch watch: unknown option '--tik' (did you mean --tick?); see sealwatch watch --help\n",
    );
  });

  describe('keygen', () => {
    it('writes a key pair openssl accepts, the private key with mode 0600', async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'sealwatch-keygen-')), 'keys');
      const result = await sealwatch(['keygen', '--out', dir]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/key hint: +[A-Za-z0-9+/]{43}=/);
      expect(statSync(join(dir, 'sealwatch.key')).mode & 0o777).toBe(0o600);
      expect(await opensslAccepts(['pkey', '-in', join(dir, 'sealwatch.key'), '-noout'])).toBe(true);
      expect(await opensslAccepts(['pkey', '-pubin', '-in', join(dir, 'sealwatch.pub'), '-noout'])).toBe(true);
      const text = await new Promise<string>((r) =>
        execFile('openssl', ['pkey', '-pubin', '-in', join(dir, 'sealwatch.pub'), '-text', '-noout'], (_e, out) =>
          r(out),
        ),
      );
      expect(text).toContain('prime256v1');
    });

    it('refuses to overwrite without --force, and overwrites with it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sealwatch-keygen-'));
      expect((await sealwatch(['keygen', '--out', dir])).code).toBe(0);
      const again = await sealwatch(['keygen', '--out', dir]);
      expect(again.code).toBe(2);
      expect(again.stderr.trim()).toBe(`${join(dir, 'sealwatch.key')}: already exists; pass --force to overwrite it`);
      expect((await sealwatch(['keygen', '--out', dir, '--force'])).code).toBe(0);
    });

    it('writes Ed25519 keys on request', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sealwatch-keygen-'));
      expect((await sealwatch(['keygen', '--out', dir, '--algorithm', 'ed25519'])).code).toBe(0);
      const text = await new Promise<string>((r) =>
        execFile('openssl', ['pkey', '-in', join(dir, 'sealwatch.key'), '-text', '-noout'], (_e, out) => r(out)),
      );
      expect(text).toContain('ED25519');
    });
  });

  describe('profile lint', () => {
    it('accepts a valid profile with exit 0', async () => {
      const result = await sealwatch(['profile', 'lint', fixture('valid.yaml')]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('valid.yaml: ok');
    });

    it('prints one line per problem with file and field path, exit 2, across several files', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sealwatch-lint-'));
      writeFileSync(join(dir, 'ok.yaml'), 'apiVersion: sealwatch.dev/v1\nkind: Profile\n');
      writeFileSync(
        join(dir, 'bad.yaml'),
        'apiVersion: sealwatch.dev/v2\nkind: Profile\nprocesses: [{ exe: /bin/sh, users: [-1] }]\n',
      );
      const result = await sealwatch(['profile', 'lint', 'ok.yaml', 'bad.yaml', 'absent.yaml'], dir);
      expect(result.code).toBe(2);
      expect(result.stdout).toContain('ok.yaml: ok');
      const lines = result.stderr.trim().split('\n');
      expect(lines).toEqual([
        'bad.yaml: apiVersion: Invalid input: expected "sealwatch.dev/v1"',
        expect.stringMatching(/^bad\.yaml: processes\[0\]\.users\[0\]: /),
        'absent.yaml: no such file',
      ]);
    });
  });
});
