import { execFileSync } from 'node:child_process';
import type { GitInfo } from './detect.ts';

/** Asks git about the checkout in `cwd`; every field is optional (no git, not a repo, detached). */
export function readGitInfo(cwd: string): GitInfo {
  const git = (...args: string[]): string | undefined => {
    try {
      const out = execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
      return out === '' ? undefined : out;
    } catch {
      return undefined;
    }
  };
  const info: GitInfo = {};
  const commit = git('rev-parse', 'HEAD');
  const ref = git('symbolic-ref', '-q', 'HEAD');
  const remote = git('config', '--get', 'remote.origin.url');
  if (commit) info.commit = commit;
  if (ref) info.ref = ref;
  if (remote) info.remote = stripCredentials(remote);
  return info;
}

/** `https://user:token@host/x` → `https://host/x`: a remote URL may carry a token. */
export function stripCredentials(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^@/]*@/i, '$1');
}
