import type { Scope } from '../sources/index.ts';

/** What one pipeline watches. */
export interface Target {
  /** how logs, the status and alerts name it: `container app (0123456789ab)`, `command npm test` */
  name: string;
  /** which processes are watched, and where their network namespace is read */
  scope: Scope;
  /** the container watched (`--container`, one of the host agent's): named on every event */
  container?: { id: string; name: string; image: string };
}
