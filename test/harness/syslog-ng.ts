import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { freePort } from './net.ts';
import { waitFor } from './wait.ts';

/**
 * A real syslog-ng receiver on 127.0.0.1 (TCP with RFC 6587 octet counting, and UDP), for the cases
 * where it behaves differently from rsyslog: its HOSTNAME grammar, its 64 KiB frame limit (it closes
 * the connection), and its kv-parser, which reads LEEF attributes by scanning for ` key=`.
 * Debian's syslog-ng conflicts with rsyslog as an installed package, so scripts/unpack-syslog-ng.sh
 * (run by scripts/setup.sh) unpacks it into .cache/syslog-ng; it runs from there with LD_LIBRARY_PATH.
 * Each message lands in `dir/received.jsonl`: host, program, msg, the SD parameters and the kv pairs.
 */
export interface SyslogNgMessage {
  host: string;
  program?: string;
  msg: string;
  /** `.SDATA.<sd-id>.<param>` values, nested by syslog-ng at each dot. */
  SDATA?: Record<string, unknown>;
  /** What kv-parser read from the message. */
  kv?: Record<string, string>;
}

export interface SyslogNgReceiver {
  dir: string;
  port: number;
  messages(): SyslogNgMessage[];
  waitFor(count: number, filter?: (m: SyslogNgMessage) => boolean, timeoutMs?: number): Promise<SyslogNgMessage[]>;
  /** syslog-ng's own log (rejections and closed connections are reported here). */
  log(): string;
  stop(): Promise<void>;
}

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const SYSLOG_NG_DIR = process.env.SYSLOG_NG_DIR ?? join(ROOT, '.cache', 'syslog-ng');
const BINARY = join(SYSLOG_NG_DIR, 'usr', 'sbin', 'syslog-ng');
const MODULES = join(SYSLOG_NG_DIR, 'usr', 'lib', 'syslog-ng', '3.38');

export function syslogNgAvailable(): boolean {
  return existsSync(BINARY) && existsSync(join(MODULES, 'libkvformat.so'));
}

/** Like describeRsyslog: skips with one line without syslog-ng, fails with SEALWATCH_REQUIRE_SYSLOG_NG=1. */
export function describeSyslogNg(name: string, fn: () => void): void {
  if (syslogNgAvailable()) {
    describe(name, fn);
    return;
  }
  const why = `no syslog-ng unpacked at ${SYSLOG_NG_DIR} (run: bash scripts/unpack-syslog-ng.sh)`;
  if (process.env.SEALWATCH_REQUIRE_SYSLOG_NG === '1') {
    describe(name, () => {
      it('needs syslog-ng', () => {
        throw new Error(`SEALWATCH_REQUIRE_SYSLOG_NG=1 but ${why}`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${why})`, fn);
}

export async function startSyslogNg(options: { logMsgSize?: number } = {}): Promise<SyslogNgReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-syslog-ng-'));
  mkdirSync(join(dir, 'persist'), { recursive: true });
  const port = await freePort();
  const out = join(dir, 'received.jsonl');
  const size = options.logMsgSize ?? 65536;
  const conf = `@version: 3.38
options { keep-hostname(yes); stats-freq(0); };
source s_net {
  syslog(ip("127.0.0.1") port(${port}) transport("tcp") max-connections(50) log-msg-size(${size}) log-iw-size(5000));
  syslog(ip("127.0.0.1") port(${port}) transport("udp") log-msg-size(${size}));
};
parser p_kv { kv-parser(prefix(".kv.") pair-separator("\\t") template("$MESSAGE")); };
destination d_out { file("${out}" template("$(format-json --pair host=$HOST --pair program=$PROGRAM --pair msg=$MESSAGE --key .SDATA.* --key .kv.*)\\n")); };
log { source(s_net); parser(p_kv); destination(d_out); };
`;
  const confPath = join(dir, 'syslog-ng.conf');
  writeFileSync(confPath, conf);
  let logText = '';
  const lib = [
    join(SYSLOG_NG_DIR, 'usr', 'lib', 'syslog-ng'),
    join(SYSLOG_NG_DIR, 'usr', 'lib', 'x86_64-linux-gnu'),
    join(SYSLOG_NG_DIR, 'lib', 'x86_64-linux-gnu'),
  ];
  const child: ChildProcess = spawn(
    BINARY,
    [
      '-F',
      '--no-caps',
      '-e',
      `--module-path=${MODULES}`,
      '-f',
      confPath,
      '-R',
      join(dir, 'persist', 'state'),
      '-p',
      join(dir, 'pid'),
      '-c',
      join(dir, 'ctl'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LD_LIBRARY_PATH: lib.join(':') } },
  );
  child.stdout!.on('data', (c: Buffer) => (logText += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (logText += c.toString()));
  const messages = (): SyslogNgMessage[] => {
    if (!existsSync(out)) return [];
    const lines = readFileSync(out, 'utf8').split('\n');
    const got: SyslogNgMessage[] = [];
    for (const line of lines) {
      if (line === '') continue;
      try {
        const raw = JSON.parse(line) as SyslogNgMessage & {
          _SDATA?: Record<string, unknown>;
          _kv?: Record<string, string>;
        };
        got.push({ host: raw.host, program: raw.program, msg: raw.msg, SDATA: raw._SDATA, kv: raw._kv });
      } catch {
        // a line still being written
      }
    }
    return got;
  };
  // Listening: a TCP connect succeeds (syslog-ng writes nothing on start in the foreground).
  await waitFor(
    'syslog-ng listening',
    async () => {
      if (child.exitCode !== null) throw new Error(`syslog-ng exited (${child.exitCode}): ${logText}`);
      const { connect } = await import('node:net');
      return new Promise<boolean>((done) => {
        const s = connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          done(true);
        });
        s.once('error', () => done(false));
      });
    },
    15_000,
  );
  return {
    dir,
    port,
    messages,
    log: () => logText,
    async waitFor(count, filter = () => true, timeoutMs = 20_000) {
      let got: SyslogNgMessage[] = [];
      await waitFor(
        `${count} messages at syslog-ng`,
        () => {
          got = messages().filter(filter);
          return got.length >= count;
        },
        timeoutMs,
      );
      return got;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    },
  };
}
