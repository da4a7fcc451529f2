import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { createEvent, type Event } from '../../shared/events/index.ts';
import { EnvironmentError } from '../../shared/errors/index.ts';
import type { OutputSpec, SinkStats } from '../../shared/outputs/index.ts';
import { SEVERITY_LABELS, SEVERITY_SCORE } from '../../shared/severity/index.ts';
import { repeatable, whole } from '../flag-types.ts';
import { addFlags, readFlags, type FlagSpec } from '../flags.ts';
import { println, type CommandIo } from '../io.ts';
import { packageVersion } from '../version.ts';

const SendTestFlags = z
  .object({
    output: repeatable(z.string().min(1), 'give an output URL (repeat --output for several outputs)').describe(
      'output URL, e.g. syslog+tls://siem:6514?format=cef',
    ),
    timeout: whole('seconds', 1, 600).default(10).describe('how long to wait for delivery'),
    'spool-dir': z.string().min(1).optional().describe('disk spool folder (default: none, so nothing is left behind)'),
    json: z.boolean().default(false).describe('print the results as one JSON object on stdout'),
  })
  .strict();

const SEND_TEST_FLAGS: FlagSpec<typeof SendTestFlags> = {
  schema: SendTestFlags,
  values: { output: 'url', timeout: 'seconds', 'spool-dir': 'dir' },
  rules: (f) => ({
    errors:
      f.json && f.output.some((url) => url.startsWith('stdout:'))
        ? ['send-test: --json prints on stdout, so it cannot test a stdout:// output']
        : [],
  }),
};

/** One test event per severity label, so a SIEM can check parsing and routing end to end. */
export function testEvents(now: () => Date = () => new Date()): Event[] {
  return SEVERITY_LABELS.map((label) =>
    createEvent(
      {
        event: {
          kind: 'alert',
          category: ['configuration'],
          type: ['info'],
          action: 'sealwatch.test',
          severity: SEVERITY_SCORE[label],
          dataset: 'sealwatch.test',
        },
        rule: { id: `SW-TEST-${label.toUpperCase()}`, name: `sealwatch test event (${label})`, ruleset: 'builtin' },
        message: `sealwatch test event, severity ${label} (${SEVERITY_SCORE[label]}): if you can read this, the output works`,
        host: { name: hostname() },
        sealwatch: { mode: 'test', outcome: 'observed' },
      },
      now,
    ),
  );
}

const delivered = (s: SinkStats, expected: number): boolean =>
  s.sent >= expected && s.queued === 0 && s.spoolBytes === 0;

export interface TestDelivery {
  name: string;
  ok: boolean;
  /** `5/5 delivered, 0 retried, 0 dropped` (and a note for UDP, or why it failed) */
  detail: string;
  delivered: number;
  expected: number;
  retried: number;
  dropped: number;
  truncated: number;
  /** The last delivery error of a failed output (a transport message; no secrets). */
  error?: string;
}

/**
 * The send-test path: one test event of each severity to each output, then wait (up to `timeoutSeconds`) until
 * each output took every event its min-severity admits. Used by `send-test` and `doctor`.
 */
export async function sendTestEvents(
  specs: readonly OutputSpec[],
  options: { io: CommandIo; timeoutSeconds: number; spoolDir?: string; onSent?: (line: string) => void },
): Promise<TestDelivery[]> {
  // loaded here, not at startup: every command shares one CLI bundle (see scripts/build.mjs)
  const { createDispatcher } = await import('../../shared/outputs/index.ts');
  const { io } = options;
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const dispatcher = createDispatcher([...specs], {
    logger: io.log.logger('warn'),
    // Each connection attempt fits within the timeout, so one can fail and say why.
    connectTimeoutMs: Math.max(250, Math.min(10_000, options.timeoutSeconds * 1000 - 250)),
    version: packageVersion(),
    stdout: io.stdout,
    env: io.env,
    spoolDir: options.spoolDir,
  });
  const expected = specs.map(() => 0);
  for (const event of testEvents()) {
    const stamped = dispatcher.dispatch(event);
    const to = specs.filter((s, i) => {
      const admitted = stamped.event.severity >= s.minSeverity;
      if (admitted) expected[i]!++;
      return admitted;
    });
    options.onSent?.(
      `sent ${stamped.sealwatch.severity.padEnd(8)} severity=${String(stamped.event.severity).padEnd(2)} ` +
        `seq=${stamped.sealwatch.seq} rule=${stamped.rule!.id} run_id=${stamped.sealwatch.run_id} → ` +
        (to.length === 0 ? '(no output admits it)' : to.map((s) => s.name).join(', ')),
    );
  }
  // Polled, never a bare flush(): a connection that hangs must not outlast the timeout.
  while (Date.now() < deadline && !dispatcher.stats().every((s, i) => delivered(s, expected[i]!))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const stats = dispatcher.stats();
  await dispatcher.close({ timeoutMs: Math.max(0, deadline - Date.now()) });
  return stats.map((s, i) => {
    const ok = delivered(s, expected[i]!);
    const udp = specs[i]!.type === 'syslog' && (specs[i] as { transport: string }).transport === 'udp';
    const error = ok ? undefined : s.lastError;
    return {
      name: s.name,
      ok,
      detail:
        `${s.sent}/${expected[i]} delivered, ${s.retried} retried, ${s.dropped} dropped` +
        (s.truncated > 0 ? `, ${s.truncated} truncated` : '') +
        (ok && udp ? ' (UDP: handed to the network; arrival cannot be confirmed)' : '') +
        (error === undefined ? '' : `: ${error}`),
      delivered: s.sent,
      expected: expected[i]!,
      retried: s.retried,
      dropped: s.dropped,
      truncated: s.truncated,
      ...(error === undefined ? {} : { error }),
    };
  });
}

export function registerSendTest(program: Command, io: CommandIo): void {
  const command = program
    .command('send-test')
    .description(
      'send one test event of each severity (info, low, medium, high, critical) to each --output and wait for delivery;\n' +
        'exit 0 only if every output took every event its min-severity admits',
    );
  addFlags(command, SEND_TEST_FLAGS).action(async (_opts: unknown, self: Command) => {
    const opts = readFlags(self, SEND_TEST_FLAGS, io);
    // loaded here, not at startup: every command shares one CLI bundle (see scripts/build.mjs)
    const { parseOutputUrl } = await import('../../shared/outputs/index.ts');
    const specs: OutputSpec[] = opts.output.map(parseOutputUrl);
    const report = opts.json || specs.some((s) => s.type === 'stdout') ? io.stderr : io.stdout;
    const results = await sendTestEvents(specs, {
      io,
      timeoutSeconds: opts.timeout,
      ...(opts['spool-dir'] !== undefined ? { spoolDir: resolve(io.cwd, opts['spool-dir']) } : {}),
      onSent: (line) => println(report, line),
    });
    for (const r of results) println(report, `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
    if (opts.json) {
      const outputs = results.map(({ detail: _detail, name, ...r }) => ({ output: name, ...r }));
      io.stdout.write(`${JSON.stringify({ ok: results.every((r) => r.ok), outputs })}\n`);
    }
    const failed = results.filter((r) => !r.ok).map((r) => r.name);
    if (failed.length > 0) {
      throw new EnvironmentError(
        'IO',
        `send-test: delivery failed within ${opts.timeout}s to ${failed.join(', ')} (check host, port, TLS ca= and the receiver's log)`,
      );
    }
  });
}
