import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../deploy/image/build-image.ts';
import { run } from '../harness/exec.ts';
import { freePort } from '../harness/net.ts';
import { rsyslogAvailable, startRsyslog, type RsyslogReceiver } from '../harness/rsyslog.ts';
import { waitFor } from '../harness/wait.ts';

/**
 * deploy/prometheus/sealwatch-rules.yml and deploy/grafana/sealwatch-dashboard.json against the real thing: Debian's
 * Prometheus scrapes a real watcher (`watch -- COMMAND`, a CEF output to a real rsyslog) and a real admission webhook
 * (over TLS, its self-signed certificate from openssl as Prometheus's CA), loads the rules as shipped,
 * and every expression of the rules and of the dashboard returns data. An alert rule is evaluated without its
 * threshold (`X > 0` as `X`): the series must exist, whether or not the alert fires. The miner-looking command makes
 * SealwatchCriticalAlert fire for real.
 */
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const RULES = join(REPO_ROOT, 'deploy/prometheus/sealwatch-rules.yml');
const DASHBOARD = join(REPO_ROOT, 'deploy/grafana/sealwatch-dashboard.json');

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface DashboardPanel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}
interface Dashboard {
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}

/** `A > 0.25`, `A == 0`, `A > 300 * 1024 * 1024` → `A`: the data an alert compares. */
function withoutThreshold(expr: string): string {
  return expr.trim().replace(/\s*(==|!=|>=|<=|>|<)\s*[\d.\s*]+$/, '');
}

/** The CLI as users run it, in a process of its own (stderr kept for a failing test's message). */
function sealwatch(args: string[]): ChildProcess {
  return spawn(process.execPath, [join(REPO_ROOT, 'bin/sealwatch.js'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

const prometheusAvailable = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
const describePrometheus =
  prometheusAvailable || process.env.SEALWATCH_REQUIRE_PROMETHEUS === '1' ? describe : describe.skip;

describePrometheus('Prometheus rules and the Grafana dashboard against a real watcher', () => {
  let dir = '';
  let receiver: RsyslogReceiver | undefined;
  let promPort = 0;
  const children: ChildProcess[] = [];

  const query = async (expr: string): Promise<unknown[]> => {
    const url = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`;
    const body = (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: unknown[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data!.result;
  };

  beforeAll(async () => {
    if (!prometheusAvailable)
      throw new Error(`${PROMETHEUS} is missing: apt-get install prometheus (scripts/setup.sh)`);
    if (!rsyslogAvailable()) throw new Error('rsyslogd is missing: apt-get install rsyslog (scripts/setup.sh)');
    dir = mkdtempSync(join(tmpdir(), 'sw-prometheus-'));
    receiver = await startRsyslog();
    const apiPort = await freePort();
    const watcher = sealwatch([
      'watch',
      '--listen',
      `127.0.0.1:${apiPort}`,
      '--output',
      `syslog+tcp://127.0.0.1:${receiver.port}?format=cef`,
      '--spool-dir',
      join(dir, 'spool'),
      '--',
      'sh',
      '-c',
      // A miner-looking process once Prometheus scrapes (a counter's first sample is no increase to it).
      `while [ ! -e ${join(dir, 'go')} ]; do sleep 0.2; done; sh -c 'sleep 600; true' stratum+tcp://pool.example:3333`,
    ]);
    children.push(watcher);
    // the admission webhook too, over TLS: a self-signed serving certificate for 127.0.0.1 that Prometheus trusts
    const tls = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), pub: join(dir, 'trusted.pub') };
    // prettier-ignore
    const made = await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', tls.key, '-out', tls.cert,
    ]);
    expect(made.code, made.stderr).toBe(0);
    // the webhook needs a trusted seal key to start; no image is checked here, so any public key will do
    const pub = await run('openssl', ['pkey', '-in', tls.key, '-pubout', '-out', tls.pub]);
    expect(pub.code, pub.stderr).toBe(0);
    const webhookPort = await freePort();
    const webhook = sealwatch([
      'admission',
      '--pub',
      tls.pub,
      '--tls-cert',
      tls.cert,
      '--tls-key',
      tls.key,
      '--listen',
      `127.0.0.1:${webhookPort}`,
    ]);
    children.push(webhook);
    promPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(RULES)}]`,
        'scrape_configs:',
        '  - job_name: sealwatch',
        `    static_configs: [{ targets: ['127.0.0.1:${apiPort}'] }]`,
        '  - job_name: sealwatch-admission',
        '    scheme: https',
        `    tls_config: { ca_file: ${JSON.stringify(tls.cert)} }`,
        `    static_configs: [{ targets: ['127.0.0.1:${webhookPort}'] }]`,
        '',
      ].join('\n'),
    );
    const prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(prometheus);
    let promLog = '';
    prometheus.stderr.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-4000)));
    // Enough scrapes for rate() over the test's windows (each needs two samples).
    await waitFor(
      'ten scrapes of the watcher and of the webhook',
      async () => {
        for (const job of ['sealwatch', 'sealwatch-admission']) {
          const [sample] = (await query(`count_over_time(up{job="${job}"}[1m]) and up{job="${job}"} == 1`)) as {
            value: [number, string];
          }[];
          if (sample === undefined || Number(sample.value[1]) < 10) return false;
        }
        return true;
      },
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nprometheus: ${promLog}`);
    });
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())))),
    );
    await receiver?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('promtool accepts the rules', async () => {
    const result = await run(PROMTOOL, ['check', 'rules', RULES]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('Prometheus loaded every rule as shipped, each healthy', async () => {
    const body = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as {
      data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const file = parse(readFileSync(RULES, 'utf8')) as RuleFile;
    const shipped = file.groups.flatMap((g) => g.rules.map((r) => r.alert ?? r.record));
    await waitFor('every rule evaluated', async () => {
      const b = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as typeof body;
      return b.data.groups.flatMap((g) => g.rules).every((r) => r.health === 'ok');
    });
    const loaded = body.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual([...shipped].sort());
  });

  it('every alert expression returns data (thresholds left out)', async () => {
    const file = parse(readFileSync(RULES, 'utf8')) as RuleFile;
    const empty: string[] = [];
    for (const rule of file.groups.flatMap((g) => g.rules)) {
      const expr = withoutThreshold(rule.expr);
      expect(expr, `${rule.alert}: no threshold found`).not.toBe(rule.expr.trim());
      if ((await query(expr)).length === 0) empty.push(`${rule.alert}: ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('every dashboard expression returns data', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(15);
    const variable = dashboard.templating.list.find((v) => v.name === 'instance')?.definition;
    expect(variable).toMatch(/^label_values\((.+), instance\)$/);
    exprs.push({ panel: 'variable instance', expr: /^label_values\((.+), instance\)$/.exec(variable!)![1]! });
    const empty: string[] = [];
    for (const { panel, expr } of exprs) {
      // Grafana's variables, as Grafana would fill them in: all watchers, a one-minute rate window
      const filled = expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*');
      if ((await query(filled)).length === 0) empty.push(`${panel}: ${filled}`);
    }
    expect(empty).toEqual([]);
  });

  it('SealwatchCriticalAlert fires for the miner-looking command the watcher saw', async () => {
    writeFileSync(join(dir, 'go'), '');
    const alert = await waitFor(
      'SealwatchCriticalAlert firing',
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json()) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        return body.data.alerts.find((a) => a.labels.alertname === 'SealwatchCriticalAlert' && a.state === 'firing');
        // a scrape, then a rule evaluation: on a loaded machine both can run late
      },
      75_000,
    );
    expect(alert.labels.rule).toBe('crypto-miner');
    // and the same alert reached the SIEM
    await receiver!.waitFor(1, { filter: (m) => m.parsed.cef?.SignatureID === 'crypto-miner' });
  }, 120_000);
});
