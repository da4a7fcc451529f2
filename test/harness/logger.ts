import type { Logger } from '../../shared/logging/index.ts';

/** A logger that keeps what it was told, one `LEVEL message` line each (debug left out). */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const self: Logger & { lines: string[] } = {
    lines,
    error: (m) => void lines.push(`error ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    info: (m) => void lines.push(`info ${m}`),
    debug: () => undefined,
    child: () => self,
  };
  return self;
}
