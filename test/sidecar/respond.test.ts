import { describe, expect, it } from 'vitest';
import { allRules, createRuleEngine } from '../../sidecar/evaluate/index.ts';
import { createAggregator, createResponder, type Killer, type KillResult } from '../../sidecar/respond/index.ts';
import { started } from './make-events.ts';

/** A working killer that records what it was asked and answers as told (no real signals in unit tests). */
function fakeKiller(result: KillResult): Killer & { calls: number[] } {
  const calls: number[] = [];
  return { calls, kill: (pid) => (calls.push(pid), result) };
}

const engine = createRuleEngine(allRules());
const tmpExec = (pid: number) => engine.evaluate(started({ pid, name: 'x', exe: '/tmp/x', args: ['x'] }));
const networkTool = (pid: number) =>
  engine.evaluate(started({ pid, name: 'nc', exe: '/bin/busybox', args: ['nc', '-l'] }));

describe('responder', () => {
  it('monitor: alerts, never kills', () => {
    const killer = fakeKiller({ outcome: 'killed' });
    const r = createResponder({
      mode: 'monitor',
      dryRun: false,
      killMinSeverity: 7,
      killer,
      aggregator: createAggregator(),
    });
    const out = r.respond(tmpExec(10), 0);
    expect(out.map((e) => [e.event.kind, e.rule?.id, e.sealwatch.outcome, e.event.severity])).toEqual([
      ['alert', 'exec-from-tmp', 'alerted', 8],
    ]);
    expect(out[0]!.sealwatch.severity).toBe('high');
    expect(out[0]!.event.category).toContain('intrusion_detection');
    expect(killer.calls).toEqual([]);
  });

  it('enforce: kills at or above the threshold and reports the kill as its own event', () => {
    const killer = fakeKiller({ outcome: 'killed' });
    const r = createResponder({
      mode: 'enforce',
      dryRun: false,
      killMinSeverity: 7,
      killer,
      aggregator: createAggregator(),
    });
    const out = r.respond(tmpExec(11), 0);
    expect(out.map((e) => [e.event.action, e.sealwatch.outcome])).toEqual([
      ['process-started', 'alerted'],
      ['process-killed', 'killed'],
    ]);
    expect(killer.calls).toEqual([11]);
    // a medium alert (network tool, 5) is below the threshold: alert only
    expect(r.respond(networkTool(12), 0).map((e) => e.sealwatch.outcome)).toEqual(['alerted']);
    expect(killer.calls).toEqual([11]);
  });

  it('enforce: a failed kill is an event of its own; a process already gone is not', () => {
    const failing = fakeKiller({ outcome: 'failed', reason: 'EPERM' });
    const r = createResponder({
      mode: 'enforce',
      dryRun: false,
      killMinSeverity: 7,
      killer: failing,
      aggregator: createAggregator(),
    });
    const out = r.respond(tmpExec(13), 0);
    expect(out[1]).toMatchObject({
      event: { action: 'process-kill-failed', outcome: 'failure' },
      sealwatch: { outcome: 'kill_failed' },
    });
    expect(out[1]!.message).toContain('EPERM');
    expect(r.stats.killFailed).toBe(1);
    const gone = createResponder({
      mode: 'enforce',
      dryRun: false,
      killMinSeverity: 7,
      killer: fakeKiller({ outcome: 'gone' }),
      aggregator: createAggregator(),
    });
    expect(gone.respond(tmpExec(14), 0)).toHaveLength(1);
  });

  it('dry-run: says what enforce would do, kills nothing', () => {
    const killer = fakeKiller({ outcome: 'killed' });
    const r = createResponder({
      mode: 'enforce',
      dryRun: true,
      killMinSeverity: 7,
      killer,
      aggregator: createAggregator(),
    });
    const out = r.respond(tmpExec(15), 0);
    expect(out.map((e) => e.sealwatch.outcome)).toEqual(['dry_run']);
    expect(out[0]!.message).toContain('would SIGKILL pid 15');
    expect(killer.calls).toEqual([]);
  });

  it('aggregates identical alerts from a loop (new pid each time) into one summary with count and first/last seen', () => {
    const r = createResponder({
      mode: 'monitor',
      dryRun: false,
      killMinSeverity: 7,
      killer: fakeKiller({ outcome: 'killed' }),
      aggregator: createAggregator({ windowMs: 1000 }),
    });
    let sent = 0;
    for (let i = 0; i < 500; i++) sent += r.respond(tmpExec(100 + i), i).length;
    expect(sent).toBe(1);
    expect(r.stats.suppressed).toBe(499);
    expect(r.drain(500)).toEqual([]); // window still open
    const [summary] = r.drain(1500);
    expect(summary!.sealwatch.count).toBe(500);
    expect(summary!.sealwatch.first_seen).toBeDefined();
    expect(summary!.sealwatch.last_seen).toBeDefined();
    expect(summary!.message).toContain('repeated 500 times');
    // a different program is not "identical"
    expect(r.respond(networkTool(1), 2000)).toHaveLength(1);
  });

  it('keeps memory bounded when every alert is different', () => {
    const agg = createAggregator({ windowMs: 60_000, maxOpen: 100 });
    const r = createResponder({
      mode: 'monitor',
      dryRun: false,
      killMinSeverity: 7,
      killer: fakeKiller({ outcome: 'gone' }),
      aggregator: agg,
    });
    for (let i = 0; i < 1000; i++) r.respond(engine.evaluate(started({ pid: i, name: `x${i}`, exe: `/tmp/x${i}` })), i);
    expect(agg.open).toBeLessThanOrEqual(100);
  });
});
