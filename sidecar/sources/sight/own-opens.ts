/**
 * Files the watcher itself opened in the watched root (the seal's identity check hashing the sealed executables,
 * file sight hashing a dropped one): inotify cannot tell who opened a file, so file sight asks here before it
 * reports an exec. Each open of ours is one credit, taken by one open event of that path: an exec that comes with
 * it is still reported (whichever of the two events is taken for ours).
 */
export interface OwnOpens {
  /** call before opening `path` */
  note(path: string): void;
  /** true (and the credit is used) when an open of `path` read at `mark` (performance.now()) may be one of ours */
  take(path: string, mark: number): boolean;
}

const MAX = 4096;
/** an open of ours not seen by then is not waited for any longer */
const WITHIN_MS = 5_000;

export function createOwnOpens(now: () => number = () => performance.now()): OwnOpens {
  const credits = new Map<string, { count: number; at: number }>();
  return {
    note(path) {
      const c = credits.get(path);
      if (c) {
        c.count++;
        c.at = now();
        return;
      }
      if (credits.size >= MAX) credits.delete(credits.keys().next().value as string);
      credits.set(path, { count: 1, at: now() });
    },
    take(path, mark) {
      const c = credits.get(path);
      if (!c) return false;
      if (mark - c.at > WITHIN_MS) {
        credits.delete(path);
        return false;
      }
      if (mark < c.at) return false; // read before we opened it: not ours
      if (--c.count === 0) credits.delete(path);
      return true;
    },
  };
}
