// `sealwatch audit` over generated events (100k and 1M), one section per command.
//
// Section "audit report": wall time and peak RSS of the real CLI (dist/cli.mjs, as users run it; `npm run
// build` first) against a floor measured in the same run on the same file: `wc -l` plus a plain Node
// script that streams the file and JSON.parses every line (the least any report must do). Peak RSS at
// 100k and 1M shows whether memory stays flat as the input grows. Every measured step is a child process
// of its own, its peak RSS read by a preload at exit.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeEvent } from '../test/audit/events-fixture.ts';
import { figure, report } from './lib/report.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = process.env.SEALWATCH_BENCH_CLI ?? join(root, 'dist/cli.mjs');

interface Measured {
  ms: number;
  maxRssMiB: number;
}

/** Runs `node ARGS` with a preload that prints the child's own peak RSS; wall time measured here. */
function measureNode(preload: string, args: string[]): Measured {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', preload, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rss = /@@maxrss=(\d+)/.exec(r.stderr);
  if (r.status !== 0 || !rss) throw new Error(`bench child failed (${args.join(' ')}): ${r.stderr}`);
  return { ms, maxRssMiB: Number(rss[1]) / 1024 };
}

function wcMs(file: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync('wc', ['-l', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wc failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The floor: stream the file and JSON.parse every line, nothing else (plain Node, no TypeScript loader). */
const FLOOR = `
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
const rl = createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Infinity });
for await (const line of rl) if (line !== '') JSON.parse(line);
`;

/** What `audit report` would start on an idle machine: a reading thread per core, at most 4. */
const THREADS = Math.min(4, availableParallelism());

const RULES = ['shell-spawned', 'netcat', 'tmp-exec', 'egress-drift', 'package-manager', 'miner-pool'];

async function generate(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  const t0 = Date.UTC(2026, 9, 1);
  for (let i = 0; i < count; i++) {
    // The test suite's deterministic event, spread over 30 days, all severities, six rules, two namespaces;
    // nearly in time order (a minute of jitter), as a watcher writes them.
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

/** Section "audit report": ours against the floor, 100k and 1M events, in the formats given. */
async function reportSection(dir: string, preload: string): Promise<void> {
  const formats = (process.env.AUDIT_BENCH_FORMATS ?? 'csv,html').split(',');
  const floor = join(dir, 'floor.mjs');
  writeFileSync(floor, FLOOR);
  const results: Record<string, Measured> = {};
  for (const count of [100_000, 1_000_000]) {
    const file = join(dir, `events-${count}.jsonl`);
    await generate(file, count);
    // The file's pages written back before anything is timed: writeback of 600 MB competes with the reads.
    spawnSync('sync');
    const mb = statSync(file).size / 1e6;
    const parse = measureNode(preload, [floor, file]);
    const floorMs = wcMs(file) + parse.ms;
    results[`floor ${count}`] = parse;
    for (const format of formats) {
      const out = join(dir, `report-${count}.${format}`);
      // One reading thread per core (the default counts the cores the load average leaves idle: right after
      // generating the file, that is often none here).
      const ours = measureNode(preload, [
        CLI,
        'audit',
        'report',
        '--events',
        file,
        '--format',
        format,
        '--out',
        out,
        '--threads',
        String(THREADS),
      ]);
      rmSync(out);
      results[`${format} ${count}`] = ours;
      const label = `audit report --format ${format} --threads ${THREADS}, ${count.toLocaleString('en-US')} events (${mb.toFixed(0)} MB)`;
      report(`${label}: wall time against wc -l + JSON.parse (goal ≤ 2)`, ours.ms, floorMs, 'ms');
      report(`${label}: peak RSS against the JSON.parse floor`, ours.maxRssMiB, parse.maxRssMiB, 'MiB');
      if (count === 1_000_000) figure(`${label}: throughput`, count / (ours.ms / 1000), 'events/s');
    }
    rmSync(file);
  }
  const floorGrowth = results['floor 1000000']!.maxRssMiB / results['floor 100000']!.maxRssMiB;
  for (const format of formats) {
    // Growth of peak RSS from 100k to 1M events, ours against the floor's own growth (V8's heap sizing).
    report(
      `audit report --format ${format}: peak RSS growth 100k→1M events (flat memory: the floor's growth)`,
      results[`${format} 1000000`]!.maxRssMiB / results[`${format} 100000`]!.maxRssMiB,
      floorGrowth,
      'x',
    );
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sealwatch-audit-bench-'));
try {
  const preload = join(dir, 'maxrss.cjs');
  writeFileSync(
    preload,
    "process.on('exit', () => require('node:fs').writeSync(2, `\\n@@maxrss=${process.resourceUsage().maxRSS}\\n`));\n",
  );
  if (process.env.AUDIT_BENCH_ONLY !== 'verify-log') await reportSection(dir, preload);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ---- The event record (separate section): `audit verify-log` against the same floor ----
// Events written through the real dispatcher with a record key (hash chain + a checkpoint every 1,000),
// then verified in-process, alternating with the floor (`wc -l` + a streamed JSON.parse of every line)
// so both see the same machine load. Goal: verification ≤ 1.5× the floor. AUDIT_BENCH_ONLY=verify-log runs
// this section alone.
async function verifyLogBench(count: number): Promise<void> {
  const { generateKeyPairSync } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  const { createDispatcher, parseOutputUrl } = await import('../shared/outputs/index.ts');
  const { silentLogger } = await import('../shared/logging/index.ts');
  const { parseSigningKey, trustedKeySet } = await import('../shared/signing/index.ts');
  const { verifyLogFiles } = await import('../audit/index.ts');
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-verify-bench-'));
  try {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = parseSigningKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'bench');
    const file = join(dir, 'record.jsonl');
    const d = createDispatcher([parseOutputUrl(`file://${file}?rotate-mb=100000`)], {
      logger: silentLogger(),
      record: { key, every: 1000, seconds: 3600 },
    });
    const t0 = Date.parse('2026-11-01T00:00:00Z');
    for (let i = 0; i < count; i++) {
      d.dispatch(
        makeEvent(i, {
          at: new Date(t0 + i * 1000).toISOString(),
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
          container: { id: 'c0ffee', name: 'app', image: { name: 'local/app:1.4.2' } },
        }),
      );
      if (i % 5000 === 4999) await d.flush();
    }
    await d.close();
    const keys = trustedKeySet([pair.publicKey]);
    const floor = async (): Promise<number> => {
      const start = process.hrtime.bigint();
      wcMs(file);
      const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      for await (const line of rl) if (line !== '') JSON.parse(line);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const ours = async (): Promise<number> => {
      const start = process.hrtime.bigint();
      const result = await verifyLogFiles([file], keys);
      if (!result.ok) throw new Error(`bench log did not verify: ${JSON.stringify(result.problems.slice(0, 3))}`);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const floors: number[] = [];
    const ourTimes: number[] = [];
    for (let round = 0; round < 3; round++) {
      floors.push(await floor());
      ourTimes.push(await ours());
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const mb = statSync(file).size / 1e6;
    report(
      `audit verify-log, ${count.toLocaleString('en-US')} chained events (${mb.toFixed(0)} MB, goal ≤ 1.5)`,
      median(ourTimes),
      median(floors),
      'ms',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.AUDIT_BENCH_VERIFY !== '0') {
  await verifyLogBench(Number(process.env.AUDIT_BENCH_VERIFY_EVENTS ?? 200_000));
}
