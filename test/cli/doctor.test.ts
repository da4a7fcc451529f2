import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';
import { describeDocker } from '../harness/docker.ts';
import { run, runOk } from '../harness/exec.ts';
import { freePort } from '../harness/net.ts';
import { rsyslogAvailable, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * `sealwatch doctor`, run as the built CLI: as root on this machine (the real engine, capabilities, proc connector,
 * sock_diag, a real rsyslog receiver through the send-test path) every check passes; as an unprivileged user
 * (setpriv to uid 65534 with no capabilities) it names each missing capability and exits 1.
 */
const CLI = join(REPO_ROOT, 'bin/sealwatch.js');

interface Report {
  ok: boolean;
  checks: { id: string; status: 'ok' | 'warn' | 'fail' | 'skip'; detail: string; fix?: string }[];
}

describeDocker('sealwatch doctor', () => {
  let dir = '';
  let receiver: RsyslogReceiver;

  beforeAll(async () => {
    if (!rsyslogAvailable()) throw new Error('rsyslogd is missing: apt-get install rsyslog (see .ci/run)');
    dir = mkdtempSync(join(tmpdir(), 'sw-doctor-'));
    await runOk(process.execPath, [CLI, 'keygen', '--out', join(dir, 'keys')]);
    receiver = await startRsyslog();
  });

  afterAll(async () => {
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('as root here, every check passes, the outputs through the send-test path', async () => {
    const result = await run(process.execPath, [
      CLI,
      'doctor',
      '--mode',
      'enforce',
      '--docker',
      '--spool-dir',
      join(dir, 'spool'),
      '--pub',
      join(dir, 'keys/sealwatch.pub'),
      '--key',
      join(dir, 'keys/sealwatch.key'),
      '--output',
      `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`,
      '--json',
    ]);
    const report = JSON.parse(result.stdout) as Report;
    const notOk = report.checks.filter((c) => c.status !== 'ok');
    expect(notOk, result.stderr).toEqual([]);
    expect(result.code).toBe(0);
    expect(report.ok).toBe(true);
    const ids = report.checks.map((c) => c.id);
    for (const cap of ['SYS_PTRACE', 'KILL', 'SYS_NICE', 'DAC_READ_SEARCH']) expect(ids).toContain(`capability ${cap}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        'engine',
        'kernel proc connector',
        'kernel inotify limits',
        'kernel sock_diag',
        'spool directory',
        `trusted key ${join(dir, 'keys/sealwatch.pub')}`,
        `signing key ${join(dir, 'keys/sealwatch.key')}`,
      ]),
    );
    // the send-test path really sent: five test events arrived at rsyslog
    const arrived = await receiver.waitFor(5, { filter: (m) => m.rawmsg.includes('sealwatch test event') });
    expect(arrived.length).toBeGreaterThanOrEqual(5);
  });

  it('an output that takes nothing fails its check with the fix, and doctor exits 1', async () => {
    const port = await freePort();
    const result = await run(process.execPath, [
      CLI,
      'doctor',
      '--spool-dir',
      join(dir, 'spool'),
      '--output',
      `syslog+tcp://127.0.0.1:${port}?format=cef`,
      '--timeout',
      '1',
    ]);
    expect(result.code).toBe(1);
    const line = result.stdout.split('\n').find((l) => l.includes(`127.0.0.1:${port}`));
    expect(line).toMatch(/^FAIL output .*: test events: 0\/5 delivered.*; fix: /);
  });

  it('as an unprivileged user it names each missing capability and exits 1', async () => {
    const unprivileged = ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps=-all'];
    const text = await run('setpriv', [...unprivileged, process.execPath, CLI, 'doctor', '--mode', 'enforce']);
    expect(text.code, text.stderr).toBe(1);
    for (const cap of ['SYS_PTRACE', 'KILL', 'SYS_NICE', 'DAC_READ_SEARCH']) {
      expect(text.stdout).toMatch(
        new RegExp(`^(FAIL|warn) capability ${cap}: missing: .*; fix: .*--cap-add ${cap}`, 'm'),
      );
    }
    // the ones the mode needs fail, the others warn
    expect(text.stdout).toMatch(/^FAIL capability SYS_PTRACE/m);
    expect(text.stdout).toMatch(/^FAIL capability KILL/m);
    expect(text.stdout).toMatch(/^warn capability SYS_NICE/m);
    // one line per check, each with its status first
    for (const line of text.stdout.trim().split('\n')) expect(line).toMatch(/^(ok {2}|warn|FAIL|skip) [^:]+: /);

    const json = await run('setpriv', [...unprivileged, process.execPath, CLI, 'doctor', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.id === 'capability SYS_PTRACE')?.status).toBe('fail');
    expect(report.checks.find((c) => c.id === 'capability KILL')?.status).toBe('warn'); // monitor: not needed
    expect(report.checks.find((c) => c.id === 'spool directory')?.status).toBe('fail'); // /var/lib is root's
  });

  it('a bad flag is one line and exit 2', async () => {
    const result = await run(process.execPath, [CLI, 'doctor', '--mode', 'bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--mode');
  });

  it('watch warns at start when it cannot read the processes it watches (uid 65534, no capabilities)', async () => {
    // a folder of its own that uid 65534 can write (the suite's folder is root's, 0700)
    const out = mkdtempSync(join(tmpdir(), 'sw-doctor-nobody-'));
    chmodSync(out, 0o777);
    // pod mode on this host: the host's processes, mostly root's, are the ones watched
    const watch = spawn(
      'setpriv',
      [
        ...['--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps=-all'],
        process.execPath,
        CLI,
        'watch',
        '--spool-dir',
        join(out, 'spool'),
        '--output',
        `file://${join(out, 'events.jsonl')}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    watch.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const warning = await waitFor('the warning', () =>
        stderr.split('\n').find((l) => l.includes('watched processes')),
      );
      expect(warning).toMatch(/cannot read \d+ of \d+ watched processes .* as uid 65534: .*CAP_SYS_PTRACE/);
    } finally {
      if (watch.exitCode === null) {
        watch.kill('SIGTERM');
        await new Promise((r) => watch.once('exit', r));
      }
      rmSync(out, { recursive: true, force: true });
    }
    // as root, a command of its own: nothing to warn about
    const root = await run(process.execPath, [CLI, 'watch', '--spool-dir', join(dir, 'spool'), '--', 'sleep', '1']);
    expect(root.code, root.stderr).toBe(0);
    expect(root.stderr).not.toContain('watched processes');
  });
});
