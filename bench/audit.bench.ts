// `audit report` over generated events (100k and 1M): wall time and peak RSS of the real CLI against
// a baseline measured in the same run: `wc -l` of the file plus a streamed `JSON.parse` of every line
// (the least any report must do). Peak RSS at 100k and 1M shows whether memory stays flat as input grows.
// Each measured step runs in its own child process so its peak RSS is its own.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeEvent } from '../test/audit/events-fixture.ts';
import { figure, report } from './lib/report.ts';

const self = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));

interface Measured {
  ms: number;
  maxRssMiB: number;
  lines?: number;
}

async function child(mode: string, file: string, out: string): Promise<void> {
  const start = process.hrtime.bigint();
  let lines = 0;
  if (mode === 'parse') {
    const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of rl) {
      if (line !== '') JSON.parse(line);
      lines++;
    }
  } else {
    // The report pipeline the CLI runs (audit/), without loading every other command.
    const { runReport } = await import('../audit/index.ts');
    await runReport({
      files: [{ path: file, source: file }],
      filter: { window: {}, rules: [], types: [], categories: [], minSeverity: 0, images: [], namespaces: [] },
      format: mode as 'csv',
      outFile: out,
      stdout: process.stdout,
    });
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const result: Measured = { ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, lines };
  process.stdout.write(`\n@@${JSON.stringify(result)}\n`);
}

function measure(mode: string, file: string, out: string): Measured {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, file, out], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@'));
  if (r.status !== 0 || !line) throw new Error(`bench child ${mode} failed: ${r.stderr}`);
  const m = JSON.parse(line.slice(2)) as Measured;
  return { ...m, ms: wall };
}

function wcMs(file: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync('wc', ['-l', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wc failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const RULES = ['shell-spawned', 'netcat', 'tmp-exec', 'egress-drift', 'package-manager', 'miner-pool'];

async function generate(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  const t0 = Date.UTC(2026, 9, 1);
  for (let i = 0; i < count; i++) {
    // The test suite's deterministic event, spread over 30 days, all severities, six rules, two namespaces.
    const event = makeEvent(i, {
      at: new Date(t0 + Math.floor((i * 30 * 86_400_000) / count) + ((i * 7919) % 60_000)).toISOString(),
      severity: (i * 7) % 11,
      ruleId: RULES[i % RULES.length]!,
      message: `process started: sh -c "id; uname -a" #${i}`,
      process: {
        pid: 1000 + (i % 30000),
        ppid: 1,
        name: 'sh',
        executable: '/bin/busybox',
        args: ['sh', '-c', `id ${i}`],
      },
      destination: i % 3 === 0 ? { ip: '10.0.0.9', port: 443 } : undefined,
      container: { id: 'c0ffee', name: 'app', image: { name: 'local/app:1.4.2' } },
      orchestrator: { namespace: i % 2 ? 'prod' : 'staging' },
    });
    if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-audit-bench-'));
  try {
    const format = process.env.AUDIT_BENCH_FORMAT ?? 'csv';
    const results: Record<number, Measured> = {};
    const baselines: Record<number, Measured> = {};
    for (const count of [100_000, 1_000_000]) {
      const file = join(dir, `events-${count}.jsonl`);
      await generate(file, count);
      const mb = statSync(file).size / 1e6;
      const baseParse = measure('parse', file, '');
      const baseMs = wcMs(file) + baseParse.ms;
      const ours = measure(format, file, join(dir, `report-${count}.${format}`));
      results[count] = ours;
      baselines[count] = baseParse;
      const label = `audit report --format ${format}, ${count.toLocaleString('en-US')} events (${mb.toFixed(0)} MB)`;
      report(`${label}: wall time`, ours.ms, baseMs, 'ms');
      report(`${label}: peak RSS`, ours.maxRssMiB, baseParse.maxRssMiB, 'MiB');
      rmSync(file);
    }
    const small = results[100_000]!;
    const large = results[1_000_000]!;
    // Growth of peak RSS from 100k to 1M events, ours against the baseline's own growth (V8's heap sizing).
    report(
      'audit report peak RSS growth 100k→1M events (flat memory: same growth as the baseline)',
      large.maxRssMiB / small.maxRssMiB,
      baselines[1_000_000]!.maxRssMiB / baselines[100_000]!.maxRssMiB,
      'x',
    );
    figure('audit report throughput at 1M events', 1_000_000 / (large.ms / 1000), 'events/s');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
