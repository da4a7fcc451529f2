import { lookup } from 'node:dns/promises';
import type { Logger } from '../../shared/logging/index.ts';
import type { Profile } from '../../shared/profile/index.ts';

/**
 * Host-name egress entries of the profile (`{ host: api.example.com, ports: [443] }`), resolved through
 * the system resolver (getaddrinfo: /etc/hosts, then the configured DNS; never a resolver of our own)
 * and refreshed, so `profile.egress-not-allowed` compares a connection's address with what the name
 * means now. The map is live: the rule engine holds it, refresh() replaces its entries. A name that
 * fails to resolve keeps its last known addresses (a DNS hiccup must not turn into alerts).
 */
export interface HostResolver {
  /** host name → addresses (IPv4 and IPv6, as the kernel writes them in /proc/net) */
  readonly resolved: ReadonlyMap<string, readonly string[]>;
  refresh(): Promise<void>;
  /** refresh every `everyMs` until stop() */
  start(everyMs?: number): void;
  stop(): void;
}

export type LookupAll = (host: string) => Promise<string[]>;

const systemLookup: LookupAll = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export function egressHosts(profile: Profile | undefined): string[] {
  return [...new Set((profile?.network.egress ?? []).flatMap((e) => (e.host ? [e.host] : [])))].sort();
}

export function createHostResolver(input: {
  hosts: readonly string[];
  logger: Logger;
  lookup?: LookupAll;
}): HostResolver {
  const resolve = input.lookup ?? systemLookup;
  const resolved = new Map<string, readonly string[]>();
  let timer: NodeJS.Timeout | undefined;
  const refresh = async (): Promise<void> => {
    await Promise.all(
      input.hosts.map(async (host) => {
        try {
          const addresses = [...new Set(await resolve(host))].sort();
          resolved.set(host, addresses);
        } catch (error) {
          input.logger.warn(
            `egress host ${host}: cannot resolve (${(error as NodeJS.ErrnoException).code ?? String(error)}); keeping ${resolved.get(host)?.length ?? 0} known address(es)`,
          );
        }
      }),
    );
  };
  return {
    resolved,
    refresh,
    start(everyMs = 60_000) {
      if (input.hosts.length === 0 || timer) return;
      timer = setInterval(() => void refresh(), everyMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
