import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, describe } from 'vitest';
import { runCliCaptured } from '../harness/cli.ts';

/** `watch -- COMMAND`: the command's exit code is sealwatch's exit code (real processes, real /proc). */
describe('watch -- COMMAND exit code', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('passes a failing exit code through, after the events are written', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-watch-exit-'));
    dirs.push(work);
    const res = await runCliCaptured(
      [
        'watch',
        '--output',
        `file://${join(work, 'events.jsonl')}`,
        '--emit',
        'all',
        '--',
        'sh',
        '-c',
        'sleep 0.3; exit 7',
      ],
      { cwd: work },
    );
    expect(res.code, res.stderr).toBe(7);
    expect(res.stderr).not.toContain('sealwatch:');
    const events = readFileSync(join(work, 'events.jsonl'), 'utf8').trim().split('\n');
    expect(events.some((l) => l.includes('"process-started"'))).toBe(true);
  });

  it('exit 0 for a command that succeeds', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sw-watch-exit-'));
    dirs.push(work);
    const res = await runCliCaptured(['watch', '--', 'sh', '-c', 'exit 0'], { cwd: work });
    expect(res.code, res.stderr).toBe(0);
  });
});
