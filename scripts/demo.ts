// `npm run demo`: sealwatch end to end in under two minutes.
//
// With a Docker engine: builds a small app image, seals it with a throwaway key, starts it with the sealwatch
// sidecar (in the app's PID and network namespaces) and a local syslog receiver, plays a short scripted attack
// in the app (a shell, a netcat listener, a binary dropped in /tmp and run, /etc/shadow held open), prints the
// CEF events the receiver got, then `sealwatch audit image`'s story of the sealed image, then cleans up.
// Without Docker: watches a local process tree (`sealwatch watch -- sh -c …`) playing the same attack.
//
// Images are built from this machine's files (busybox-static for the app, the local node for the sidecar's base
// when node:24-bookworm-slim is not already in the engine): nothing is pulled. Network: 127.0.0.1 only.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSidecarImage, REPO_ROOT } from '../deploy/image/build-image.ts';
import { generateKeyPairFiles } from '../shared/signing/index.ts';
import { run, runOk } from '../test/harness/exec.ts';
import { buildAppImage, buildNodeBaseImage } from '../test/harness/images.ts';
import { rsyslogAvailable, startRsyslog } from '../test/harness/rsyslog.ts';

const CLI = join(REPO_ROOT, 'bin/sealwatch.js');
const started = Date.now();
const DEMO_LABEL = 'dev.sealwatch.demo=1';
const RULES_EXPECTED = ['terminal-shell', 'suspicious-network-tool', 'exec-from-tmp', 'sensitive-file-open'];

const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const step = (text: string): void => void process.stdout.write(`[demo ${elapsed()}] ${text}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Attacker-controlled text from events is printed with control characters made visible. */
const safe = (text: string): string =>
  [...text]
    .map((c) => {
      const code = c.charCodeAt(0);
      return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\x${code.toString(16).padStart(2, '0')}` : c;
    })
    .join('');

interface Received {
  cef: string;
  rule: string;
}

/** A syslog receiver on 127.0.0.1: the project's real rsyslog when installed, else a minimal TCP listener. */
async function startReceiver(): Promise<{ port: number; kind: string; received(): Received[]; stop(): Promise<void> }> {
  const fromCef = (cef: string): Received => ({ cef, rule: cef.split('|')[4] ?? '' });
  if (rsyslogAvailable()) {
    const rx = await startRsyslog();
    return {
      port: rx.port,
      kind: 'rsyslogd (parses CEF with liblognorm)',
      received: () =>
        rx
          .messages()
          .filter((m) => m.parsed.cef !== undefined)
          .map((m) => fromCef(m.msg.trimStart())),
      stop: async () => {
        await rx.stop();
        rmSync(rx.dir, { recursive: true, force: true });
      },
    };
  }
  const lines: string[] = [];
  const server = createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      // RFC 6587 octet counting: "<len> <message>"
      for (;;) {
        const m = /^(\d+) /.exec(buffered);
        if (!m) break;
        const len = Number(m[1]);
        const body = Buffer.from(buffered.slice(m[0].length), 'utf8');
        if (body.length < len) break;
        lines.push(body.subarray(0, len).toString('utf8'));
        buffered = body.subarray(len).toString('utf8');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    kind: 'a minimal TCP syslog listener (install rsyslog for a real one)',
    received: () => lines.filter((l) => l.includes('CEF:0|')).map((l) => fromCef(l.slice(l.indexOf('CEF:0|')))),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function waitForRules(received: () => Received[], rules: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const seen = new Set(received().map((r) => r.rule));
    if (rules.every((r) => seen.has(r))) return;
    await sleep(200);
  }
}

function printEvents(events: Received[]): void {
  const seen = new Set(events.map((e) => e.rule));
  const alerts = events.filter((e) => e.rule !== 'pid-gap');
  step(
    `the receiver got ${events.length} CEF event(s); the ${alerts.length} alert(s) (pid-gap coverage notices not shown):`,
  );
  for (const e of alerts) process.stdout.write(`    ${safe(e.cef)}\n`);
  const missing = RULES_EXPECTED.filter((r) => !seen.has(r));
  step(
    missing.length === 0
      ? `every attack step alerted (${RULES_EXPECTED.join(', ')})`
      : `attack steps without an alert: ${missing.join(', ')}`,
  );
}

async function dockerDemo(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sealwatch-demo-'));
  const containers: string[] = [];
  const receiver = await startReceiver();
  try {
    step(`syslog receiver on 127.0.0.1:${receiver.port}: ${receiver.kind}`);
    step('building the app image (busybox httpd, FROM scratch)…');
    const app = await buildAppImage({
      cmd: ['httpd', '-f', '-p', '127.0.0.1:18080', '-h', '/www'],
      files: { '/www/index.html': '<h1>demo app</h1>\n' },
      repository: 'sealwatch-demo/app',
    });
    step('throwaway signing key (sealwatch keygen) and sealing the image…');
    const keys = generateKeyPairFiles(work);
    const sealed = 'sealwatch-demo/app:sealed';
    await runOk('node', [CLI, 'seal', '--image', app, '--key', keys.privateKeyPath, '--tag', sealed]);
    const verify = await run('node', [CLI, 'verify', '--image', sealed, '--pub', keys.publicKeyPath]);
    step(
      `sealwatch verify --image ${sealed}: exit ${verify.code} (${verify.code === 0 ? 'sealed by our key' : 'NOT verified'})`,
    );

    const slim = 'node:24-bookworm-slim';
    const haveSlim = (await run('docker', ['image', 'inspect', slim])).code === 0;
    step(`building the sealwatch image (Dockerfile, base ${haveSlim ? slim : 'a local Node base from this machine'})…`);
    const sidecar = await buildSidecarImage({ nodeBase: haveSlim ? slim : await buildNodeBaseImage() });

    step('starting the app and the sidecar in its PID and network namespaces…');
    const appId = (await runOk('docker', ['run', '-d', '--label', DEMO_LABEL, '--network', 'host', sealed])).trim();
    containers.push(appId);
    const apiPort = 20000 + Math.floor(Math.random() * 20000);
    const sidecarId = (
      await runOk('docker', [
        'run',
        '-d',
        '--label',
        DEMO_LABEL,
        '--pid',
        `container:${appId}`,
        '--network',
        `container:${appId}`,
        '--user',
        '0:0',
        '--cap-add',
        'SYS_PTRACE',
        '--cap-add',
        'KILL',
        // The public key the image was sealed with: the sidecar verifies the app's seal before trusting it.
        '--volume',
        `${keys.publicKeyPath}:/etc/sealwatch/trust/sealwatch.pub:ro`,
        '--env',
        'SEALWATCH_PUB=/etc/sealwatch/trust/sealwatch.pub',
        '--env',
        `SEALWATCH_OUTPUT=syslog+tcp://127.0.0.1:${receiver.port}?format=cef`,
        '--env',
        `SEALWATCH_LISTEN=127.0.0.1:${apiPort}`,
        sidecar,
      ])
    ).trim();
    containers.push(sidecarId);
    for (let i = 0; i < 100; i++) {
      // Ticking = watching (/readyz also wants a profile, and this demo seals none).
      const ticks = await fetch(`http://127.0.0.1:${apiPort}/v1/status`)
        .then((r) => r.json() as Promise<{ ticks?: number }>)
        .then(
          (s) => s.ticks ?? 0,
          () => 0,
        );
      if (ticks > 0) break;
      await sleep(200);
    }
    step('sidecar ready; playing the attack in the app:');
    const exec = (args: string[]): Promise<unknown> => run('docker', ['exec', ...args]);
    step('  1. an interactive shell (docker exec -t app sh)');
    // (a trailing command keeps the shell alive: busybox sh execs its last command in place)
    await exec(['-t', appId, 'sh', '-c', 'id; sleep 1; true']);
    step('  2. a netcat listener on port 4444');
    await exec(['-d', appId, 'sh', '-c', 'nc -l -p 4444 & sleep 3; kill $!']);
    step('  3. a binary dropped in /tmp and run (busybox copied to /tmp/sleep)');
    await exec([appId, 'sh', '-c', 'cp /bin/busybox /tmp/sleep && /tmp/sleep 1; true']);
    step('  4. /etc/shadow read and held open');
    await exec(['-d', appId, 'sh', '-c', 'exec 3</etc/shadow; sleep 3']);
    await waitForRules(() => receiver.received(), RULES_EXPECTED, 20_000);
    printEvents(receiver.received());

    step(`sealwatch audit image ${sealed}:`);
    const story = await run('node', [CLI, 'audit', 'image', sealed, '--pub', keys.publicKeyPath]);
    for (const line of (story.stdout + story.stderr).trimEnd().split('\n')) process.stdout.write(`    ${line}\n`);
  } finally {
    step('cleaning up (containers, receiver, key)…');
    if (containers.length > 0) await run('docker', ['rm', '-f', ...containers]);
    await receiver.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function localDemo(reason: string): Promise<void> {
  step(`no Docker engine (${reason}): watching a local process tree instead`);
  const work = mkdtempSync(join(tmpdir(), 'sealwatch-demo-'));
  const receiver = await startReceiver();
  try {
    step(`syslog receiver on 127.0.0.1:${receiver.port}: ${receiver.kind}`);
    const payload = join(work, 'payload');
    copyFileSync('/bin/sleep', payload);
    const nc = ['/bin/nc', '/usr/bin/nc', '/bin/busybox'].find((p) => existsSync(p));
    const ncCmd = nc === '/bin/busybox' ? 'busybox nc -l -p 4444' : nc ? `${nc} -l 4444` : 'true';
    const script = [
      'sleep 1',
      `script -qc 'sh -c "id; sleep 1"' /dev/null >/dev/null 2>&1 || true`,
      `(${ncCmd} >/dev/null 2>&1 & p=$!; sleep 2; kill $p 2>/dev/null)`,
      `${payload} 1`,
      existsSync('/etc/shadow') ? '(exec 3</etc/shadow; sleep 2) 2>/dev/null' : 'true',
      'sleep 2',
    ].join('; ');
    step(
      'sealwatch watch -- sh -c "<attack>": a shell, a netcat listener, a program run from /tmp, /etc/shadow held open',
    );
    const child = spawn(
      'node',
      [CLI, 'watch', '--output', `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`, '--', 'sh', '-c', script],
      { stdio: ['ignore', 'inherit', 'ignore'] },
    );
    await new Promise((resolve) => child.once('exit', resolve));
    await waitForRules(() => receiver.received(), RULES_EXPECTED, 5_000);
    printEvents(receiver.received());
  } catch (error) {
    step(`local demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  } finally {
    step('cleaning up…');
    await receiver.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  step('sealwatch demo: seal an image, watch it run, catch an attack, tell its story');
  if (!existsSync(join(REPO_ROOT, 'dist/cli.mjs'))) await runOk('node', [join(REPO_ROOT, 'scripts/build.mjs')]);
  const engine = await run('docker', ['info', '--format', '{{.ServerVersion}}']).catch((e: unknown) => ({
    code: 1,
    stdout: '',
    stderr: String(e),
  }));
  if (engine.code === 0) await dockerDemo();
  else await localDemo(engine.stderr.trim().split('\n')[0] ?? 'docker info failed');
  step(`done in ${elapsed().trim()}`);
}

await main();
