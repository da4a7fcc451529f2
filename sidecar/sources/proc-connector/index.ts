export { createProcConnector } from './connector.ts';
export type { ProcConnector, ProcConnectorOptions } from './connector.ts';
export { openProcConnector, SOCKET_THREAD_BUNDLE } from './open-socket.ts';
export type { ProcEventHandlers, ProcEventStream } from './open-socket.ts';
export type { RawExecRead } from './messages.ts';
export type { ProcConnectorStats } from './snapshot-store.ts';
export { parseProcEvents } from './wire.ts';
export type { ProcEvent } from './wire.ts';
