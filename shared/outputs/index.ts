export { parseOutputUrl, OutputFormat, OUTPUT_FORMATS } from './url.ts';
export type { OutputSpec, OutputType, OutputQuery } from './url.ts';
export type {
  Sink,
  CloseOptions,
  SinkStats,
  Dispatcher,
  DispatcherDeps,
  SinkDeps,
  SinkFactory,
  Formatter,
  FormatOptions,
} from './types.ts';
export { createDispatcher } from './dispatcher.ts';
export { SINKS } from './sinks/registry.ts';
export {
  FORMATTERS,
  formatterFor,
  formatCef,
  formatLeef,
  formatJson,
  formatEcs,
  formatOcsf,
  formatRfc5424,
  formatRfc5424Sd,
  formatRfc3164,
  ocsfClass,
  OCSF_CLASS,
  CEF_KEYS,
  SD_ID,
} from './formatters/index.ts';
