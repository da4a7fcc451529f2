import winston from 'winston';
import { escapeTerminal } from '../text/index.ts';
import { redact, redactString } from './redact.ts';

/**
 * Our own diagnostic log (never the security events: those go through shared/outputs).
 * Always on stderr so stdout stays clean for `--json` and for events written to stdout.
 * The only file that imports winston.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  child(meta: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** `json` for machines (one object per line), `text` for people (the default). */
  format?: 'json' | 'text';
  /** Where to write; default process.stderr. */
  stream?: NodeJS.WritableStream;
}

const redactFormat = winston.format((info) => {
  const { level, message, ...rest } = info;
  const clean = redact(rest) as Record<string, unknown>;
  const out = Object.assign(info, clean);
  out.level = level;
  out.message = redactString(String(message));
  return out;
});

export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? 'text';
  // a message can quote what a watched process or image holds: escaped, it cannot move the cursor or add a line
  const text = winston.format.printf(({ level, message, timestamp, ...meta }) => {
    const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
    return `${String(timestamp)} ${level}: ${escapeTerminal(String(message))}${extra}`;
  });
  const logger = winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(
      redactFormat(),
      winston.format.timestamp(),
      format === 'json' ? winston.format.json() : text,
    ),
    transports: [new winston.transports.Stream({ stream })],
  });
  return wrap(logger);
}

function wrap(logger: winston.Logger): Logger {
  return {
    error: (m, meta) => void logger.error(m, meta),
    warn: (m, meta) => void logger.warn(m, meta),
    info: (m, meta) => void logger.info(m, meta),
    debug: (m, meta) => void logger.debug(m, meta),
    child: (meta) => wrap(logger.child(meta)),
  };
}

/** A logger that writes nothing, for tests and library callers that do not want logs. */
export function silentLogger(): Logger {
  const noop = (): void => undefined;
  const self: Logger = { error: noop, warn: noop, info: noop, debug: noop, child: () => self };
  return self;
}
