/** One inotify_event as the kernel wrote it (linux/inotify.h). */
export interface InotifyEvent {
  wd: number;
  mask: number;
  cookie: number;
  /** the entry's name inside a watched directory, raw bytes without the NUL padding; empty for the watched file */
  name: Buffer;
}

const HEADER = 16;
/** NAME_MAX + 1, rounded up: the kernel never pads a name beyond this */
const MAX_NAME = 256 + 16;

/**
 * Parses the events of one read(2) of an inotify descriptor. Bounded: an event whose length runs past the chunk or
 * past NAME_MAX is not parsed, and the rest of the chunk is counted as `malformed` bytes (the kernel never splits an
 * event across reads, so this only happens with a broken descriptor).
 */
export function parseInotifyEvents(chunk: Buffer): { events: InotifyEvent[]; malformed: number } {
  const events: InotifyEvent[] = [];
  let offset = 0;
  while (offset + HEADER <= chunk.length) {
    const len = chunk.readUInt32LE(offset + 12);
    if (len > MAX_NAME || offset + HEADER + len > chunk.length) break;
    const nameBytes = chunk.subarray(offset + HEADER, offset + HEADER + len);
    const end = nameBytes.indexOf(0);
    events.push({
      wd: chunk.readInt32LE(offset),
      mask: chunk.readUInt32LE(offset + 4),
      cookie: chunk.readUInt32LE(offset + 8),
      name: Buffer.from(end === -1 ? nameBytes : nameBytes.subarray(0, end)),
    });
    offset += HEADER + len;
  }
  return { events, malformed: chunk.length - offset };
}
