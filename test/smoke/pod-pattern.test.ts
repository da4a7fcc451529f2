import { expect, it } from 'vitest';
import { describeDocker } from '../harness/docker.ts';
import { buildAppImage } from '../harness/images.ts';
import { startContainer, startInPod, useContainerCleanup } from '../harness/containers.ts';
import { waitFor } from '../harness/wait.ts';

describeDocker('harness smoke: the pod pattern', () => {
  useContainerCleanup();

  it('a second container in the app PID namespace sees the app processes in /proc', async () => {
    const image = await buildAppImage();
    const app = await startContainer({ image, cmd: ['sleep', '3600'] });
    const watcher = await startInPod(app, { image, cmd: ['sleep', '3601'] });

    // List /proc from inside the watcher: every numeric entry, with its cmdline.
    const listing = await watcher.exec([
      'sh',
      '-c',
      'for d in /proc/[0-9]*; do printf "%s %s\\n" "${d#/proc/}" "$(tr "\\0" " " < $d/cmdline)"; done',
    ]);
    expect(listing.code).toBe(0);
    const processes = listing.stdout
      .trim()
      .split('\n')
      .map((line) => ({ pid: Number(line.split(' ')[0]), cmd: line.slice(line.indexOf(' ') + 1).trim() }));
    const app1 = processes.find((p) => p.cmd === 'sleep 3600');
    expect(app1, `app's sleep not in the watcher's /proc: ${listing.stdout}`).toBeDefined();
    // The app's init is PID 1 of the shared namespace; the watcher's own process is there too.
    expect(app1?.pid).toBe(1);
    expect(processes.some((p) => p.cmd === 'sleep 3601')).toBe(true);

    // The app's filesystem is reachable through /proc/1/root, as the sidecar reads a neighbour's seal.
    const passwd = await watcher.exec(['cat', '/proc/1/root/etc/passwd']);
    expect(passwd.stdout).toContain('app:x:1000:1000');

    // And the two share one network namespace: a listener in the app is visible to the watcher.
    await app.execDetached(['nc', '-l', '-p', '18080']);
    // busybox nc listens on [::] (tcp6); 18080 is 46A0 in hex.
    const tcp = await waitFor('the app listener in the shared /proc/net', async () => {
      const text = (await watcher.exec(['cat', '/proc/net/tcp', '/proc/net/tcp6'])).stdout;
      return text.includes(':46A0') ? text : undefined;
    });
    expect(tcp).toContain(':46A0');
  });

  it('removes a container it started', async () => {
    const image = await buildAppImage();
    const c = await startContainer({ image });
    await c.remove();
    const { execFileSync } = await import('node:child_process');
    const left = execFileSync('docker', ['ps', '-aq', '--filter', `id=${c.id}`])
      .toString()
      .trim();
    expect(left).toBe('');
  });
});
