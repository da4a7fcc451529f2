import type { OutputFormat, OutputSpec } from '../url.ts';
import type { Formatter } from '../types.ts';
import { formatCef } from './cef.ts';
import { formatEcs, formatJson, formatOcsf } from './json.ts';
import { formatLeef } from './leef.ts';
import { formatRfc5424Sd } from './rfc5424.ts';

/** Every `format=` value and its formatter; a new format fails to compile until it is listed here. */
export const FORMATTERS = {
  cef: formatCef,
  leef: formatLeef,
  json: formatJson,
  ecs: formatEcs,
  ocsf: formatOcsf,
  rfc5424: formatRfc5424Sd,
} satisfies Record<OutputFormat, Formatter>;

/** The render function of one output, with its options bound. */
export function formatterFor(
  spec: OutputSpec,
  context: { version: string; hostname?: string },
): (event: Parameters<Formatter>[0]) => string {
  const format: Formatter = FORMATTERS[spec.format];
  const options = {
    version: context.version,
    hostname: context.hostname,
    facility: spec.options.facility,
    leefDelimiter: spec.options['leef-delimiter'],
  };
  return (event) => format(event, options);
}

export { formatCef, CEF_KEYS } from './cef.ts';
export { formatLeef } from './leef.ts';
export { formatJson, formatEcs, formatOcsf, ocsfClass, OCSF_CLASS } from './json.ts';
export {
  formatRfc5424Sd,
  formatRfc5424,
  sdParams,
  structuredData,
  rfc5424Timestamp,
  priority,
  SD_ID,
} from './rfc5424.ts';
export { formatRfc3164, RFC3164_MAX_BYTES } from './rfc3164.ts';
export { truncateUtf8, truncateEscapedUtf8, wellFormed } from './text.ts';
