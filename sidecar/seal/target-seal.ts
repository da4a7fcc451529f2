import type { DockerClient } from '../../shared/docker/index.ts';
import type { TrustedKeys } from '../../shared/signing/index.ts';
import { podContainerIdOf } from '../sources/index.ts';
import type { ProcFs } from '../sources/proc/index.ts';
import { checkImageSeal, checkPodSeal } from './neighbour-seal.ts';
import type { SealCheck } from './seal-check.ts';

/**
 * The seal of the sidecar's target, checked before anything runs (so no event goes out without its seal status):
 * `--container`, the container's image; a pod given the Docker socket, the app container's image (found through
 * the cgroup of its processes), so a valid seal of another image copied into the app's files is caught; a pod
 * without it (Kubernetes), the seal in the app's root, verified, its identity only reported.
 */
export async function checkTargetSeal(input: {
  proc: ProcFs;
  trusted: TrustedKeys;
  docker?: DockerClient;
  /** `--container`: the container's image id */
  imageId?: string;
  /** pod mode: the Docker socket was given */
  podDocker: boolean;
  /** pod mode: how long to wait for a neighbour process to read the seal from (ms) */
  sealWaitMs: number;
  signal: AbortSignal;
}): Promise<SealCheck> {
  const { proc, docker, trusted } = input;
  if (input.imageId !== undefined && docker) return checkImageSeal(docker, input.imageId, trusted);
  const pids = await neighbourPids(proc, input.sealWaitMs, input.signal);
  const appId = input.podDocker && docker ? podContainerIdOf(proc, process.pid) : undefined;
  const appImage = appId !== undefined && docker ? (await docker.inspectContainer(appId)).Image : undefined;
  return appImage !== undefined && docker
    ? checkImageSeal(docker, appImage, trusted)
    : checkPodSeal({ procRoot: proc.root, pids, selfPid: process.pid, trusted });
}

/** Pod mode: the PIDs of the namespace that are not the watcher or its children, lowest first; waits for one to exist. */
async function neighbourPids(proc: ProcFs, waitMs: number, signal: AbortSignal): Promise<number[]> {
  const end = Date.now() + waitMs;
  for (;;) {
    const pids = proc
      .listPids()
      .filter((pid) => {
        if (pid === process.pid) return false;
        const stat = proc.stat(pid);
        return stat !== undefined && stat.ppid !== process.pid;
      })
      .sort((a, b) => a - b);
    if (pids.length > 0 || Date.now() >= end || signal.aborted) return pids;
    await new Promise((r) => setTimeout(r, 200));
  }
}
