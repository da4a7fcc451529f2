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

  // each run raises one alert for the events file to hold: a shell started by a non-shell (timeout); the command's
  // own sh, started by sealwatch, raises none (#15 item 14)
  it('applies the file: outputs (a list for a repeatable flag), tick and mode', async () => {
    const events = join(dir, 'events.jsonl');
    const config = write(
      'ok.yaml',
      `mode: monitor\ntick: 20\noutput:\n  - file://${events}\nspool-dir: ${join(dir, 'spool')}\n`,
    );
    const run = await runCliCaptured(
      ['watch', '--config', config, '--', '/bin/sh', '-c', 'timeout 5 sh -c "sleep 0.5"; exit 4'],
      {
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(4);
    const lines = readFileSync(events, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!).sealwatch.mode).toBe('monitor');
  });

  it('names the file and key of every unknown option and bad value at once, exit 2', async () => {
    const bad = write('bad.yaml', 'mode: sometimes\ntik: 20\ndry-run: "yes"\n');
    const run = await runCliCaptured(['watch', '--config', bad, '--', 'true'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      'sealwatch: bad.yaml: tik: unknown option (keys are the long flags of `sealwatch watch` without --)',
      'sealwatch: bad.yaml: mode: Invalid option: expected one of "learn"|"monitor"|"enforce"',
      'sealwatch: bad.yaml: dry-run: Invalid input: expected boolean, received string',
    ]);
  });

  it('takes one value or a list for a repeatable flag, and numbers as numbers', async () => {
    const events = join(dir, 'one.jsonl');
    const config = write('one.yaml', `tick: 25\noutput: file://${events}\nspool-dir: ${join(dir, 'spool4')}\n`);
    const run = await runCliCaptured(
      ['watch', '--config', config, '--', '/bin/sh', '-c', 'timeout 5 sh -c "sleep 0.5"; exit 0'],
      {
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(events, 'utf8').trim().split('\n').length).toBeGreaterThan(0);
  });

  it('learn takes --config too: the file gives --out', async () => {
    const out = join(dir, 'learned.yaml');
    const config = write('learn.yaml', `out: ${out}\ntick: 20\n`);
    const run = await runCliCaptured(['learn', '--config', config, '--', '/bin/sh', '-c', 'exit 0'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('kind: Profile');
    const bad = write('learn-bad.yaml', 'out: p.yaml\nmode: enforce\n');
    const refused = await runCliCaptured(['learn', '--config', bad, '--', 'true'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'learn-bad.yaml: mode: unknown option (keys are the long flags of `sealwatch learn`',
    );
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
