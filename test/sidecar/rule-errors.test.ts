import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Profile } from '../../shared/profile/index.ts';
import { allRules, createRuleEngine, customRule } from '../../sidecar/evaluate/index.ts';
import { buildPipeline, MODES, runLoop, type Pipeline } from '../../sidecar/pipeline/index.ts';
import { treeScope } from '../../sidecar/sources/index.ts';
import { createProcFs } from '../../sidecar/sources/proc/index.ts';
import { runCliCaptured } from '../harness/cli.ts';
import { recordingLogger } from '../harness/logger.ts';
import { openTestRun } from '../harness/run.ts';
import { FixtureProc } from './fixture-proc.ts';
import { started } from './make-events.ts';

/**
 * A rule that throws costs only itself (#15: one bad rule lost a tick's alerts, and on the first tick ended the
 * watcher): the other rules still judge the event, the tick's other alerts go out, the failure is counted in
 * /metrics and logged, and lint refuses the invalid regular expressions that made such rules.
 */
const BAD = Profile.parse({
  apiVersion: 'sealwatch.dev/v1',
  kind: 'Profile',
  processes: [{ exe: '/**' }],
  rules: {
    custom: [
      // an invalid regular expression (lint refuses it; a profile taken without lint would still carry it)
      { id: 'bad.args', name: 'bad args', severity: 'high', match: { args: '(' } },
      {
        id: 'bad.exception',
        name: 'bad exception',
        severity: 'low',
        match: { name: 'sleep' },
        exceptions: [{ args: '[' }],
      },
    ],
  },
});

describe('a rule that throws', () => {
  it('costs only itself: the other rules judge the event, and the failure goes to onError', () => {
    const failed: string[] = [];
    const engine = createRuleEngine(allRules(BAD), { profile: BAD }, (rule) => failed.push(rule.id));
    const hits = engine.evaluate(started({ pid: 9, name: 'sleep', args: ['sleep', '5'], exe: '/tmp/sleep' }));
    expect(hits.map((h) => h.rule.id)).toEqual(['exec-from-tmp']);
    expect(failed.sort()).toEqual(['bad.args', 'bad.exception']);
    // the same rule alone, as custom rules are built
    expect(() => customRule(BAD.rules.custom[0]!).check(started({ pid: 1 }), {})).toThrow();
  });

  describe('in a pipeline', () => {
    const fx = new FixtureProc();
    afterAll(() => fx.cleanup());

    it('the first tick still ships the alerts of that tick; the failures are counted in /metrics and logged once a minute', async () => {
      fx.add({ pid: 300, comm: 'sh', cmdline: ['sh', '-c', 'run'], exe: '/bin/busybox' });
      fx.add({ pid: 301, ppid: 300, comm: 'sleep', cmdline: ['/tmp/sleep', '5'], exe: '/tmp/sleep' });
      fx.add({ pid: 302, ppid: 300, comm: 'sleep', cmdline: ['sleep', '6'], exe: '/bin/busybox' });
      const logger = recordingLogger();
      const run = openTestRun({ emitAll: false }, logger);
      const pipeline = buildPipeline({ name: 'command run', scope: treeScope(300, 300) }, MODES.command, {
        run,
        proc: createProcFs(fx.root),
        profile: { profile: BAD, source: 'test' },
      });
      const controller = new AbortController();
      await runLoop(run, {
        pipelines: () => [pipeline],
        tickMs: 10,
        signal: controller.signal,
        started: () => controller.abort(),
      });
      expect(pipeline.recent({ limit: 100 }).map((e) => e.rule?.id)).toEqual(['exec-from-tmp']);
      const metrics = await run.metrics.registry.metrics();
      // three processes judged: bad.args threw for each, bad.exception for the two named sleep; once per tick each
      expect(metrics).toMatch(/^sealwatch_rule_errors_total\{rule="bad\.args"\} 3$/m);
      expect(metrics).toMatch(/^sealwatch_rule_errors_total\{rule="bad\.exception"\} 2$/m);
      expect(metrics).toMatch(/^sealwatch_tick_failures_total 0$/m);
      expect(logger.lines.filter((l) => l.startsWith('error rule bad.args failed'))).toHaveLength(1);
      expect(logger.lines.filter((l) => l.startsWith('error rule bad.exception failed'))).toHaveLength(1);
    });
  });

  it('a pipeline whose tick throws is counted and logged; the loop and the other pipelines go on', async () => {
    const logger = recordingLogger();
    const run = openTestRun({ aggregateWindowMs: 1, emitAll: false }, logger);
    let good = 0;
    const fake = (name: string, tick: () => void): Pipeline =>
      ({ target: { name }, tracker: { processes: () => new Map() }, tick }) as unknown as Pipeline;
    const controller = new AbortController();
    await runLoop(run, {
      pipelines: () => [
        fake('broken', () => {
          throw new Error('boom');
        }),
        fake('fine', () => {
          // three ticks, then the run ends
          if (++good === 3) controller.abort();
        }),
      ],
      tickMs: 5,
      signal: controller.signal,
    });
    // the first, the period's and the last after the end
    expect(good).toBeGreaterThanOrEqual(3);
    expect(run.ticks).toBe(good);
    expect(await run.metrics.registry.metrics()).toMatch(new RegExp(`^sealwatch_tick_failures_total ${good}$`, 'm'));
    expect(logger.lines.filter((l) => l.startsWith('error'))[0]).toBe('error tick failed for broken');
  });

  it('lint refuses an invalid regular expression in a custom rule, an exception, or a process entry', async () => {
    const profile = `apiVersion: sealwatch.dev/v1
kind: Profile
processes: [{ exe: /bin/app, args: '(' }]
rules:
  custom:
    - { id: a, name: a, severity: low, match: { args: '(' } }
    - { id: b, name: b, severity: low, match: { name: x }, exceptions: [{ args: '[' }] }
`;
    const dir = mkdtempSync(join(tmpdir(), 'sw-rule-lint-'));
    writeFileSync(join(dir, 'p.yaml'), profile);
    const lint = await runCliCaptured(['policy', 'lint', 'p.yaml'], { cwd: dir });
    expect(lint.code).toBe(2);
    expect(lint.stderr).toContain('processes[0].args: not a valid regular expression');
    expect(lint.stderr).toContain('rules.custom[0].match.args: not a valid regular expression');
    expect(lint.stderr).toContain('rules.custom[1].exceptions[0].args: not a valid regular expression');
  });
});
