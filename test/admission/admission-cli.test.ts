import { expect, it } from 'vitest';
import { runCliCaptured } from '../harness/cli.ts';

it('sealwatch admission: a missing serving certificate or key is one line each, exit 2', async () => {
  const noCert = await runCliCaptured(['admission', '--pub', 'sealwatch.pub'], { cwd: '/' });
  expect(noCert.code).toBe(2);
  expect(noCert.stderr.trim().split('\n')).toEqual([
    'sealwatch: --tls-cert: the serving certificate (PEM), e.g. /etc/sealwatch/tls/tls.crt',
    'sealwatch: --tls-key: the serving key (PEM), e.g. /etc/sealwatch/tls/tls.key',
  ]);
  const badListen = await runCliCaptured(
    ['admission', '--pub', 'k.pub', '--tls-cert', 'c', '--tls-key', 'k', '--listen', '8443'],
    { cwd: '/' },
  );
  expect(badListen.code).toBe(2);
  expect(badListen.stderr.trim()).toBe('sealwatch: --listen: HOST:PORT, e.g. 0.0.0.0:8443');
  const noKey = await runCliCaptured(['admission', '--tls-cert', 'c', '--tls-key', 'k'], {
    cwd: '/',
    env: { SEALWATCH_PUB: '/nonexistent/sealwatch.pub' },
  });
  expect(noKey.code).toBe(2);
  expect(noKey.stderr.trim()).toBe('/nonexistent/sealwatch.pub: no such file');
});
