import type { Event } from '../../shared/events/index.ts';
import { csvField } from './escape.ts';
import type { ReportRenderer } from './renderer.ts';

/** Stable columns: new columns are only ever appended. */
export const CSV_COLUMNS: ReadonlyArray<readonly [string, (e: Event) => string | number | undefined]> = [
  ['timestamp', (e) => e['@timestamp']],
  ['event_id', (e) => e.event.id],
  ['severity', (e) => e.event.severity],
  ['severity_label', (e) => e.sealwatch.severity],
  ['rule_id', (e) => e.rule?.id],
  ['rule_name', (e) => e.rule?.name],
  ['kind', (e) => e.event.kind],
  ['category', (e) => e.event.category.join(' ')],
  ['type', (e) => e.event.type.join(' ')],
  ['action', (e) => e.event.action],
  ['outcome', (e) => e.sealwatch.outcome],
  ['message', (e) => e.message],
  ['process_pid', (e) => e.process?.pid],
  ['process_ppid', (e) => e.process?.ppid],
  ['process_name', (e) => e.process?.name],
  ['process_executable', (e) => e.process?.executable],
  ['process_args', (e) => (e.process?.args ? JSON.stringify(e.process.args) : undefined)],
  ['process_user', (e) => e.process?.user?.name ?? e.process?.user?.id],
  ['process_sha256', (e) => e.process?.hash?.sha256],
  ['parent_executable', (e) => e.process?.parent?.executable ?? e.process?.parent?.name],
  ['source_ip', (e) => e.source?.ip],
  ['source_port', (e) => e.source?.port],
  ['destination_ip', (e) => e.destination?.ip],
  ['destination_port', (e) => e.destination?.port],
  ['destination_domain', (e) => e.destination?.domain],
  ['network_transport', (e) => e.network?.transport],
  ['network_direction', (e) => e.network?.direction],
  ['file_path', (e) => e.file?.path],
  ['container_id', (e) => e.container?.id],
  ['container_name', (e) => e.container?.name],
  ['image_name', (e) => e.container?.image?.name],
  ['image_digest', (e) => e.container?.image?.digest],
  ['namespace', (e) => e.orchestrator?.namespace],
  ['pod', (e) => e.orchestrator?.resource?.name],
  ['host_name', (e) => e.host?.name],
  ['seal_status', (e) => e.sealwatch.seal?.status],
  ['count', (e) => e.sealwatch.count],
];

const GETTERS = CSV_COLUMNS.map(([, get]) => get);

/** One row per event (RFC 4180, CRLF line ends), in time order. */
export function createCsvRenderer(): ReportRenderer {
  return {
    groupByRule: false,
    separator: '',
    begin: () => `${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`,
    groupStart: () => '',
    event: (e) => {
      // A loop, not map and join: no array per row (the row is encoded into the sort batch at once).
      let row = csvField(GETTERS[0]!(e));
      for (let i = 1; i < GETTERS.length; i++) row += `,${csvField(GETTERS[i]!(e))}`;
      return `${row}\r\n`;
    },
    groupEnd: () => '',
    end: () => '',
  };
}
