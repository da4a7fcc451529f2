export { parseOutputUrl, OutputFormat, OUTPUT_FORMATS } from './url.ts';
export type { OutputSpec, OutputType, OutputQuery } from './url.ts';
export type { Sink, SinkStats, Dispatcher } from './types.ts';
