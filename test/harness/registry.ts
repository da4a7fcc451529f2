import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOk } from './exec.ts';
import { freePort } from './net.ts';
import { startFakeTokenServer, type FakeTokenServer } from './fake-token-server.ts';

/** A real Docker registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1 with basic auth. */
export interface TestRegistry {
  host: string;
  url: string;
  username: string;
  password: string;
  /** Copies a local engine image into the registry (skopeo, no docker login, no global state). */
  push(localRef: string, repoTag: string): Promise<void>;
  /** With `auth: 'bearer'`: the token service the registry sends clients to. */
  tokens?: FakeTokenServer;
  stop(): Promise<void>;
}

export async function registryAvailable(): Promise<boolean> {
  const a = await run('sh', ['-c', 'command -v docker-registry && command -v skopeo && command -v python3']);
  return a.code === 0;
}

async function bcrypt(password: string): Promise<string> {
  // htpasswd needs bcrypt; Python's crypt (libxcrypt) makes one without extra packages. Cost 4, not the default
  // 12: the registry checks it on every request, and at 12 each one costs ~0.25 s of CPU on a busy machine.
  const out = await runOk('python3', [
    '-W',
    'ignore',
    '-c',
    'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))',
    password,
  ]);
  return out.trim();
}

/**
 * `none`: anonymous push and pull. `basic`: htpasswd (bcrypt). `bearer`: the registry's token auth, with tokens from a
 * fake-token-server (the one part that is not the real thing: a token service).
 */
export async function startRegistry(auth: 'none' | 'basic' | 'bearer' = 'basic'): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'sealwatch-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const username = 'auditor';
  const password = `pw-${port}`;
  let tokens: FakeTokenServer | undefined;
  let authConfig = '';
  if (auth === 'basic') {
    writeFileSync(join(dir, 'htpasswd'), `${username}:${await bcrypt(password)}\n`);
    authConfig = `auth: { htpasswd: { realm: sealwatch-test, path: ${join(dir, 'htpasswd')} } }`;
  } else if (auth === 'bearer') {
    tokens = await startFakeTokenServer(dir, { username, password });
    authConfig = `auth: { token: { realm: "${tokens.realm}", service: sealwatch-test-registry, issuer: ${tokens.issuer}, rootcertbundle: ${tokens.certPath} } }`;
  }
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "${host}" }`,
      authConfig,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://${host}`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${url}/v2/`);
      if (r.status === 401 || r.status === 200) break;
    } catch {
      // not up yet
    }
    if (i > 100 || child.exitCode !== null) {
      child.kill();
      await tokens?.close();
      throw new Error(`docker-registry did not start on ${host}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    url,
    username,
    password,
    ...(tokens ? { tokens } : {}),
    push: async (localRef, repoTag) => {
      await runOk('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        ...(auth === 'none' ? [] : ['--dest-creds', `${username}:${password}`]),
        `docker-daemon:${localRef}`,
        `docker://${host}/${repoTag}`,
      ]);
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await tokens?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
