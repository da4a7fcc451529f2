export { createLogger, silentLogger } from './logger.ts';
export type { Logger, LoggerOptions, LogLevel } from './logger.ts';
export { redact, redactString, REDACTED } from './redact.ts';
