import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliCaptured } from '../harness/cli.ts';

/** `sealwatch watch --config FILE`: options from YAML, below flags and SEALWATCH_* variables. */
describe('watch --config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-config-'));
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return name;
  };

  it('applies the file: outputs (a list for a repeatable flag), tick and mode', async () => {
    const events = join(dir, 'events.jsonl');
    const config = write(
      'ok.yaml',
      `mode: monitor\ntick: 20\noutput:\n  - file://${events}\nspool-dir: ${join(dir, 'spool')}\n`,
    );
    const run = await runCliCaptured(
      ['watch', '--config', config, '--', '/bin/sh', '-c', 'nc -h 2>/dev/null; exit 4'],
      {
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(4);
    const lines = readFileSync(events, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!).sealwatch.mode).toBe('monitor');
  });

  it('names the file and key of an unknown option or a bad value, exit 2', async () => {
    const bad = write('bad.yaml', 'mode: sometimes\ntik: 20\ndry-run: "yes"\n');
    const run = await runCliCaptured(['watch', '--config', bad, '--', 'true'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('bad.yaml: tik: unknown option');
    expect(run.stderr).toContain('bad.yaml: dry-run: expected true or false');
  });

  it('a flag and a SEALWATCH_* variable win over the file', async () => {
    const config = write('tick.yaml', 'tick: nonsense\nmode: learn\n');
    const flagWins = await runCliCaptured(
      ['watch', '--config', config, '--tick', '20', '--mode', 'monitor', '--', 'true'],
      {
        cwd: dir,
        env: { SEALWATCH_SPOOL_DIR: join(dir, 'spool2') },
      },
    );
    expect(flagWins.code, flagWins.stderr).toBe(0);
    const fileApplies = await runCliCaptured(['watch', '--config', config, '--', 'true'], { cwd: dir });
    expect(fileApplies.code).toBe(2);
    expect(fileApplies.stderr).toMatch(/tick/);
    const envWins = await runCliCaptured(['watch', '--', 'true'], {
      cwd: dir,
      env: {
        SEALWATCH_CONFIG: config,
        SEALWATCH_TICK: '20',
        SEALWATCH_MODE: 'monitor',
        SEALWATCH_SPOOL_DIR: join(dir, 'spool3'),
      },
    });
    expect(envWins.code, envWins.stderr).toBe(0);
  });
});
