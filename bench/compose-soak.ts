// The compose soak (issue 7, "must hold"): deploy/compose/docker-compose.yml with a benign workload, learning
// first, then N minutes of monitoring that must raise zero alerts, then the scripted attacks, each of which
// must alert. Prints the counts. Not a *.bench.ts (bench/run.ts would run it every time): run it directly,
//   npx tsx bench/compose-soak.ts [--minutes 10] [--learn-seconds 60]
// Learning is done from the host, through the kernel proc connector (`sealwatch learn --docker --container`),
// while the app runs its workload alone: a sidecar's /proc poller cannot see the periodic job's 1 ms programs
// reliably, so a profile it learned misses them and monitoring alerts when it sees one by chance. The sidecar is
// then started in monitor mode with that profile. Needs Docker, docker-compose, root in the host PID namespace
// (the proc connector) and `npm run build` (dist/cli.mjs); loopback only.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSidecarImage, REPO_ROOT } from '../deploy/image/build-image.ts';
import { run, runOk } from '../test/harness/exec.ts';
import { buildAppImage, buildNodeBaseImage } from '../test/harness/images.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const minutes = arg('minutes', 10);
const learnSeconds = arg('learn-seconds', 60);
const log = (s: string): void => void process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const NOT_ALERTS = new Set(['pid-gap', 'container-exec', 'container-restart', 'container-oom', 'container-die']);

const HTTP_PORT = 18000 + Math.floor(Math.random() * 1000);
// The app, in a network namespace of its own (APP_NETWORK_MODE=none: on this machine's host network the
// sidecar would also see every other listener of the host): busybox httpd (daemonized), a client loop
// requesting a page every 200 ms, a health check every second that writes the page to /dev/null itself
// (`wget -q -O /dev/null`, issue #13: remote-copy-tool took it for a download), and a periodic job every 5 s.
const appCmd =
  `httpd -p 127.0.0.1:${HTTP_PORT} -h /www; ` +
  `(while true; do wget -qO- http://127.0.0.1:${HTTP_PORT}/ > /dev/null && echo ok >> /tmp/requests; sleep 0.2; done) & ` +
  `(while true; do wget -q -O /dev/null http://127.0.0.1:${HTTP_PORT}/; sleep 1; done) & ` +
  'while true; do date > /tmp/now.txt; cat /tmp/now.txt > /dev/null; sleep 5; done';

const project = `swsoak${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'sw-soak-'));
const files = [
  '-f',
  join(REPO_ROOT, 'deploy/compose/docker-compose.yml'),
  '-f',
  join(REPO_ROOT, 'bench/compose-soak.override.yml'),
];
const token = randomBytes(16).toString('hex');

const image = await buildAppImage({
  cmd: ['sh', '-c', appCmd],
  files: { '/www/index.html': '<h1>soak</h1>\n' },
  repository: 'sealwatch-bench/soak-app',
});
const sidecar = await buildSidecarImage({ nodeBase: await buildNodeBaseImage() });
const events = join(dir, 'events.jsonl');
// The compose file checks seals: a key of the soak's own (the app image is not sealed; the learned profile is used).
await runOk(process.execPath, [join(REPO_ROOT, 'bin/sealwatch.js'), 'keygen', '--out', join(dir, 'keys')]);
const env = {
  ...process.env,
  APP_IMAGE: image,
  SEALWATCH_IMAGE: sidecar,
  // Events to a JSONL file in the shared volume: the app's own network namespace cannot reach a host receiver
  // (test/deploy/compose.test.ts proves the syslog/CEF path with rsyslog).
  SIEM_URL: 'file:///learn/events.jsonl',
  SEALWATCH_PUB_FILE: join(dir, 'keys/sealwatch.pub'),
  APP_NETWORK_MODE: 'none',
  SEALWATCH_MODE: 'monitor',
  SEALWATCH_API_PORT: '9464',
  SOAK_TOKEN: token,
  SOAK_DIR: dir,
};
const compose = (...args: string[]) => run('docker-compose', ['-p', project, ...files, ...args], { env });
interface Line {
  event: { kind: string; action: string };
  rule?: { id: string };
  message: string;
}
const alerts = (): { rule: string; msg: string }[] => {
  let text: string;
  try {
    text = readFileSync(events, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line)
    .filter((e) => e.event.kind === 'alert' && e.rule !== undefined && !NOT_ALERTS.has(e.rule.id))
    .map((e) => ({ rule: e.rule!.id, msg: e.message }));
};
let appId = '';
/**
 * The requests served so far, read from the host through the app's root: a `docker exec … wc -l` every 30 s put
 * processes into the watched app that the benign workload does not have (their memory raised
 * profile.memory-exceeded once, and `wc` is not in the learned profile).
 */
const requests = async (): Promise<number> => {
  const pid = (await runOk('docker', ['inspect', '--format', '{{.State.Pid}}', appId])).trim();
  try {
    return readFileSync(`/proc/${pid}/root/tmp/requests`, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};
/** The sidecar's API is on the app's loopback: reach it from inside the sidecar. */
const sidecarFetch = async (path: string, method = 'GET'): Promise<{ code: number; body: string }> => {
  const sidecarId = (await runOk('docker-compose', ['-p', project, ...files, 'ps', '-q', 'sealwatch'], { env })).trim();
  const script = `fetch('http://127.0.0.1:9464${path}', { method: '${method}', headers: { authorization: 'Bearer ' + process.env.SOAK_TOKEN } }).then(async (r) => { console.log(r.status); console.log(await r.text()); })`;
  const r = await run('docker', ['exec', sidecarId, 'node', '-e', script]);
  const [code = '0', ...body] = r.stdout.split('\n');
  return { code: Number(code), body: body.join('\n') + r.stderr };
};

try {
  const up = await compose('up', '-d', 'app');
  if (up.code !== 0) throw new Error(`docker-compose up app: ${up.stderr}`);
  appId = (await runOk('docker-compose', ['-p', project, ...files, 'ps', '-q', 'app'], { env })).trim();
  log(
    `learning for ${learnSeconds} s from the host (sealwatch learn --docker; benign workload: a client loop requesting a page every 200 ms, a wget -q -O /dev/null health check every second, a job every 5 s)`,
  );
  const learned = await run('node', [
    join(REPO_ROOT, 'bin/sealwatch.js'),
    'learn',
    '--docker',
    '--container',
    appId,
    '--duration',
    `${learnSeconds}s`,
    '--out',
    join(dir, 'profile.yaml'),
  ]);
  if (learned.code !== 0) throw new Error(`sealwatch learn --docker: exit ${learned.code}: ${learned.stderr}`);
  log(`sealwatch learn --docker said:\n${learned.stderr.trim().replace(/^/gm, '    ')}`);
  log(
    `learned profile (${dir}/profile.yaml):\n${readFileSync(join(dir, 'profile.yaml'), 'utf8').replace(/^/gm, '    ')}`,
  );
  // as a user would: seal the learned profile into the image, run the sealed image; the sidecar verifies the seal
  // with the soak's key (an unsealed app was one seal.unsealed alert, counted as benign). A tag of its own: the
  // content-hash tag stays the unsealed build.
  env.APP_IMAGE = `${image}-sealed`;
  await runOk(process.execPath, [
    join(REPO_ROOT, 'bin/sealwatch.js'),
    'seal',
    '--image',
    image,
    '--key',
    join(dir, 'keys/sealwatch.key'),
    '--profile',
    join(dir, 'profile.yaml'),
    '--tag',
    env.APP_IMAGE,
  ]);
  const resealed = await compose('up', '-d', 'app');
  if (resealed.code !== 0) throw new Error(`docker-compose up app (sealed image): ${resealed.stderr}`);
  appId = (await runOk('docker-compose', ['-p', project, ...files, 'ps', '-q', 'app'], { env })).trim();
  log(`app sealed with the learned profile and started again from the sealed image`);
  const side = await compose('up', '-d', 'sealwatch');
  if (side.code !== 0) throw new Error(`docker-compose up sealwatch: ${side.stderr}`);
  for (let i = 0; i < 60 && (await sidecarFetch('/readyz').catch(() => ({ code: 0 }))).code !== 200; i++)
    await sleep(500);
  // Every alert from the sidecar's first tick on counts: its start (every running process checked) is monitoring.
  const learnedAlerts = 0;
  log(`monitoring for ${minutes} min with the learned profile (sidecar in monitor mode)…`);
  const monitorStart = Date.now();
  while (Date.now() - monitorStart < minutes * 60_000) {
    await sleep(30_000);
    log(
      `  ${Math.round((Date.now() - monitorStart) / 1000)} s: ${alerts().length - learnedAlerts} alert(s), ${await requests()} requests served`,
    );
  }
  const benign = alerts().slice(learnedAlerts);
  const benignRequests = await requests();
  log('scripted attacks…');
  const attacks: { name: string; rule: string; cmd: string[] }[] = [
    { name: 'interactive shell', rule: 'terminal-shell', cmd: ['-t', appId, 'sh', '-c', 'id; sleep 1; true'] },
    {
      name: 'netcat listener',
      rule: 'suspicious-network-tool',
      cmd: ['-d', appId, 'sh', '-c', 'nc -l -p 4444 & sleep 3; kill $!'],
    },
    {
      name: 'binary dropped in /tmp',
      rule: 'exec-from-tmp',
      cmd: [appId, 'sh', '-c', 'cp /bin/busybox /tmp/sleep && /tmp/sleep 1; true'],
    },
    {
      name: '/etc/shadow held open',
      rule: 'sensitive-file-open',
      cmd: ['-d', appId, 'sh', '-c', 'exec 3</etc/shadow; sleep 3'],
    },
  ];
  const before = alerts().length;
  for (const a of attacks) await run('docker', ['exec', ...a.cmd]);
  await sleep(8000);
  const attackAlerts = alerts().slice(before);
  const caught = attacks.filter((a) => attackAlerts.some((x) => x.rule === a.rule));
  log(`benign phase: ${minutes} min, ${benignRequests} HTTP requests served (since start), ${benign.length} alert(s)`);
  for (const b of benign) log(`    benign alert: ${b.rule}: ${b.msg}`);
  log(`attack phase: ${caught.length} of ${attacks.length} attacks alerted; ${attackAlerts.length} alert(s) in all`);
  for (const a of attacks)
    log(`    ${attackAlerts.some((x) => x.rule === a.rule) ? 'ALERTED' : 'MISSED '} ${a.name} (${a.rule})`);
  for (const x of attackAlerts) log(`    alert: ${x.rule}: ${x.msg}`);
  process.stdout.write(
    `compose-soak: benign alerts ${benign.length} in ${minutes} min, attacks alerted ${caught.length}/${attacks.length}\n`,
  );
} finally {
  await compose('down', '-v', '-t', '2');
}
