import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Netlink from 'netlink';
import { errnoName, type SightNative } from './native.ts';
import { DESTROY_GROUPS, NETLINK_SOCK_DIAG } from './sock-diag.ts';

/**
 * Opens a NETLINK_SOCK_DIAG socket subscribed to the four destroy groups (TCP/UDP × IPv4/IPv6) of a network
 * namespace. No capability is needed: the kernel sends these to any member of the groups in the namespace (nobody
 * with every capability dropped got them). A netlink socket belongs to the namespace it was made in, so:
 * - the watcher's own namespace (the pod, where the watcher shares the app's): the `netlink` package (prebuilt);
 * - another namespace (`--container`, the host agent): the socket must be made inside it (setns), which the `netlink`
 *   package cannot do; `inNamespace` is the native sight addon's `sockDiagDestroy` when it is built.
 * This file is the connection sight's only user of the `netlink` package.
 */
export interface DestroyStream {
  /** how the socket was opened, for the start line */
  readonly how: string;
  close(): void;
}

export interface DestroyHandlers {
  onMessage(buf: Buffer, groups: number): void;
  /** the socket failed or the kernel dropped notifications (ENOBUFS: the receive buffer was full) */
  onError(error: Error & { code?: string }): void;
}

/** Opens the socket of another namespace (setns inside); undefined when the native addon is not there. */
export type OpenInNamespace = (netnsPath: string, handlers: DestroyHandlers) => DestroyStream;

/** Whether `/proc/<pid>/ns/net` is the namespace this process is in (then no setns is needed). */
export function sameNetNamespace(procRoot: string, pid: number | 'self'): boolean {
  try {
    return readlinkSync(`${procRoot}/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net');
  } catch {
    return false;
  }
}

/** 4 MiB asked for; the kernel caps it at net.core.rmem_max (~208 KiB by default, ~500 notifications). */
const RECEIVE_BUFFER = 4 * 1024 * 1024;

/**
 * Opens the destroy notifications of the namespace `/proc/<anchor>/ns/net`. Throws an Error whose message says why
 * it cannot (one line for the log).
 */
export function openDestroyStream(
  target: { procRoot: string; anchor: number | 'self'; ownNamespace?: 'refused' },
  handlers: DestroyHandlers,
  inNamespace?: OpenInNamespace,
): DestroyStream {
  if (process.platform !== 'linux')
    throw new Error(`socket destroy notifications need Linux (this is ${process.platform})`);
  if (target.anchor === 'self' || sameNetNamespace(target.procRoot, target.anchor)) {
    if (target.ownNamespace === 'refused')
      throw new Error(
        "the container shares the watcher's network namespace (host network): its connections cannot be told from the host's",
      );
    return openHere(handlers);
  }
  if (!inNamespace)
    throw new Error(
      'the container has a network namespace of its own, and opening a socket there needs the native sight addon (native/sight: run npm run build:native) and CAP_SYS_ADMIN',
    );
  return inNamespace(`${target.procRoot}/${target.anchor}/ns/net`, handlers);
}

function openHere(handlers: DestroyHandlers): DestroyStream {
  const { RawNetlinkSocket } = createRequire(import.meta.url)('netlink') as typeof Netlink;
  const mask = DESTROY_GROUPS.reduce((m, g) => m | (1 << (g - 1)), 0);
  const socket = new RawNetlinkSocket(NETLINK_SOCK_DIAG, {
    recvBufferSize: RECEIVE_BUFFER,
    sendBufferSize: 4096,
    localGroups: mask,
  });
  socket.unref();
  socket.on('message', (buf, info) => handlers.onMessage(buf, info.groups));
  socket.on('truncatedMessage', () => handlers.onError(new Error('a destroy notification was truncated')));
  socket.on('error', (error) => handlers.onError(error));
  return {
    how: "NETLINK_SOCK_DIAG destroy groups in the watcher's own network namespace",
    close: () => socket.close(),
  };
}

/**
 * Another namespace's destroy notifications through the native sight addon: its socket is made by a short-lived
 * thread that joins the namespace (setns needs CAP_SYS_ADMIN), and read as it becomes readable. The protocol of each
 * message comes from its INET_DIAG_PROTOCOL attribute (a read(2) does not say which group it came on).
 */
export function openInNamespaceWith(native: SightNative): OpenInNamespace {
  return (netnsPath, handlers) => {
    const fd = native.sockDiagDestroy(netnsPath);
    if (fd < 0)
      throw new Error(
        `cannot open a NETLINK_SOCK_DIAG socket in ${netnsPath}: ${errnoName(fd)}${fd === -1 ? ' (joining another network namespace needs CAP_SYS_ADMIN)' : ''}`,
      );
    const poll = native.pollFd(fd, (error, chunk) => {
      if (error) handlers.onError(error);
      else if (chunk) handlers.onMessage(chunk, 0);
    });
    return {
      how: `NETLINK_SOCK_DIAG destroy groups in ${netnsPath} (native sight addon)`,
      close() {
        poll.close();
        native.closeFd(fd);
      },
    };
  };
}
