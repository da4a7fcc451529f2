/**
 * Line-oriented outputs (file, stdout, LF-framed syslog) must never let a value start a second
 * line. CEF, LEEF and JSON never contain raw CR/LF; RFC 5424 structured data may, so those become
 * the two-character text `\r` / `\n` here.
 */
export function oneLine(message: string): string {
  return message.includes('\n') || message.includes('\r')
    ? message.replace(/[\r\n]/g, (c) => (c === '\r' ? '\\r' : '\\n'))
    : message;
}
