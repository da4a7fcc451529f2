import { createServer, type Server } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '../harness/cli.ts';

/** Every stderr line of a run, parsed: fails on any line that is not one JSON object. */
function jsonLines(stderr: string): Array<{ level: string; message: string; timestamp: string }> {
  return stderr
    .trim()
    .split('\n')
    .map((line) => {
      const parsed = JSON.parse(line) as { level: string; message: string; timestamp: string };
      expect(parsed).toEqual({ level: expect.any(String), message: expect.any(String), timestamp: expect.any(String) });
      return parsed;
    });
}

describe('--log-format and --log-level: one format on stderr for the whole run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-log-'));
  let busy: Server;
  let port = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => busy.close());

  it('json: the logger’s lines and the final error line are all JSON (stderr is not a terminal here)', async () => {
    const run = await runCliCaptured(
      [
        '--log-format',
        'json',
        'watch',
        '--spool-dir',
        join(dir, 'spool'),
        '--listen',
        `127.0.0.1:${port}`,
        '--',
        'sleep',
        '5',
      ],
      { cwd: dir },
    );
    expect(run.code).toBe(3);
    const lines = jsonLines(run.stderr);
    expect(lines.map((l) => l.level)).toContain('warn');
    expect(lines.at(-1)!.level).toBe('error');
  });

  it('json from SEALWATCH_LOG_FORMAT, for usage errors too (an unknown flag, a bad value)', async () => {
    const env = { SEALWATCH_LOG_FORMAT: 'json' };
    const unknown = await runCliCaptured(['watch', '--tik', '5'], { env });
    expect(unknown.code).toBe(2);
    expect(jsonLines(unknown.stderr)).toEqual([
      expect.objectContaining({
        level: 'error',
        message: "sealwatch watch: unknown option '--tik' (did you mean --tick?); see sealwatch watch --help",
      }),
    ]);
    const bad = await runCliCaptured(['watch', '--tick', '5', '--', 'true'], { env });
    expect(jsonLines(bad.stderr)).toEqual([
      expect.objectContaining({ level: 'error', message: '--tick: milliseconds, a whole number from 10 to 10000' }),
    ]);
  });

  it('text (the default): no JSON line, even when stderr is not a terminal', async () => {
    const run = await runCliCaptured(
      ['watch', '--spool-dir', join(dir, 'spool'), '--listen', `127.0.0.1:${port}`, '--', 'sleep', '5'],
      { cwd: dir },
    );
    expect(run.code).toBe(3);
    const lines = run.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).not.toMatch(/^\{/);
    expect(lines.at(-1)).toMatch(/^sealwatch: /);
  });

  it('--log-level error hides warnings; errors always show', async () => {
    const policy = join(dir, 'p.yaml');
    writeFileSync(policy, 'apiVersion: sealwatch.dev/v1\nkind: Policy\ndisable: [no-such-rule]\n');
    const shown = await runCliCaptured(['policy', 'lint', policy]);
    expect(shown.code).toBe(0);
    expect(shown.stderr).toMatch(/^warning: .*"no-such-rule" is not a built-in rule id\n$/);
    const quiet = await runCliCaptured(['--log-level', 'error', 'policy', 'lint', policy]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    const failing = await runCliCaptured(['policy', 'lint', join(dir, 'absent.yaml')], {
      env: { SEALWATCH_LOG_LEVEL: 'error' },
    });
    expect(failing.code).toBe(2);
    expect(failing.stderr).toContain('absent.yaml: no such file');
  });

  it('a bad SEALWATCH_LOG_LEVEL or --log-format names the variable or flag, exit 2', async () => {
    const env = await runCliCaptured(['profile', 'lint', 'x.yaml'], { env: { SEALWATCH_LOG_LEVEL: 'loud' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toBe(
      'sealwatch: SEALWATCH_LOG_LEVEL: Invalid option: expected one of "error"|"warn"|"info"|"debug"\n',
    );
    const flag = await runCliCaptured(['--log-format', 'xml', 'profile', 'lint', 'x.yaml']);
    expect(flag.stderr).toBe('sealwatch: --log-format: Invalid option: expected one of "text"|"json"\n');
  });
});
