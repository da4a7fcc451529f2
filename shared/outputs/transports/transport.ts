/**
 * A transport carries already-rendered messages to one peer (a syslog server, an HTTP endpoint).
 * The reliable sink (queue, spool, retries) sits in front of it; transports only deliver.
 */
export interface Transport {
  /**
   * Delivers the messages in order: resolves once they are handed to the OS (streams, datagrams) or
   * acknowledged (HTTP 2xx); rejects when the peer cannot be reached or the connection breaks.
   */
  send(messages: readonly Buffer[]): Promise<void>;
  /**
   * After a failure: messages that were handed off shortly before and may not have reached the peer
   * (a stream's resend window). The sink sends them again first: at-least-once, same run_id + seq.
   */
  takeUnconfirmed(): Buffer[];
  readonly connected: boolean;
  /** Called when an open connection breaks between sends (the peer closed it), so the sink can resend at once. */
  onBreak?: (listener: () => void) => void;
  /** Messages cut to fit a size limit. */
  readonly truncated: number;
  /** Ends the connection, waiting at most `timeoutMs` (default 1 s) for it to close cleanly. */
  close(timeoutMs?: number): Promise<void>;
}
