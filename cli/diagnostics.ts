import { createLogger, type Logger, type LogLevel } from '../shared/logging/index.ts';
import { escapeTerminal } from '../shared/text/index.ts';

export type LogFormat = 'text' | 'json';

/**
 * Everything a command says on stderr, in one format for the whole run: `--log-format text` (the default) gives
 * human lines, `json` one JSON object per line, for the logger's lines and the error, warning and note lines
 * alike, so a log pipeline never meets a line it cannot parse. `--log-level` hides what is below it (errors always
 * show). Stdout is not touched: it carries results (`--json`) and events (`stdout://`).
 */
export interface Diagnostics {
  /** The run's logger (long-running commands), at `--log-level`, or `defaultLevel` when none was given. */
  logger(defaultLevel?: LogLevel): Logger;
  /** What failed, one line: `sealwatch: MESSAGE`. */
  error(message: string): void;
  /** A problem that already names its file and field (`watch.yaml: tick: …`), printed as it is. */
  problem(line: string): void;
  warn(message: string): void;
  /** A result worth a line on stderr (`profile written to p.yaml`), printed as it is. */
  note(message: string): void;
}

export interface LogSettings {
  /** undefined: each command's own default (`info`; `warn` for `seal` and `send-test`) */
  level?: LogLevel;
  format: LogFormat;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * Diagnostics on `stream`, with settings read when a line is written: the global flags are parsed after the
 * diagnostics exist (commander reports a bad flag through them), so `settings` is a function.
 */
export function createDiagnostics(stream: NodeJS.WritableStream, settings: () => LogSettings): Diagnostics {
  let json: Logger | undefined;
  const shown = (level: LogLevel): boolean => RANK[level] <= RANK[settings().level ?? 'info'];
  const jsonLine = (level: LogLevel, message: string): void => {
    json ??= createLogger({ stream, format: 'json', level: 'debug' });
    json[level](message);
  };
  const write = (level: LogLevel, text: string, message: string): void => {
    if (level !== 'error' && !shown(level)) return;
    if (settings().format === 'json') jsonLine(level, message);
    else stream.write(`${escapeTerminal(text)}\n`);
  };
  return {
    logger: (defaultLevel = 'info') => {
      const { level, format } = settings();
      return createLogger({ stream, format, level: level ?? defaultLevel });
    },
    error: (message) => write('error', `sealwatch: ${message}`, message),
    problem: (line) => write('error', line, line),
    warn: (message) => write('warn', `warning: ${message}`, message),
    note: (message) => write('info', message, message),
  };
}
