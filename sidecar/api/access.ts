import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';

/**
 * Who may read what of the watcher's API. The events and status carry full command lines (and so whatever
 * secrets a process was given in its arguments), so:
 *
 * - A request that arrived on a loopback address must name a loopback host (`localhost`, `127.x.x.x`, `[::1]`,
 *   with any port) in its Host header, on every route. A web page the operator opens cannot then read the API
 *   through DNS rebinding: its requests carry the page's own host name.
 * - `/v1/*` needs the bearer token whenever one is configured (`--api-token-env`), on every address. Without a
 *   token, `/v1/*` answers only on loopback: anyone who can reach another address gets 403, never command lines.
 * - `/healthz`, `/readyz` and `/metrics` need no token (probes and Prometheus): they carry counts, rule ids and
 *   output names (URLs without their secrets), no command lines.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const ip = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1';
}

/** The host part of a Host header (`[::1]:9464` → `::1`, `localhost:9464` → `localhost`). */
function hostOf(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed?.[1]) return bracketed[1];
  return header.replace(/:\d+$/, '');
}

export function isLoopbackHost(header: string | undefined): boolean {
  if (header === undefined) return false;
  const host = hostOf(header.trim().toLowerCase());
  return host === 'localhost' || host.endsWith('.localhost') || isLoopbackAddress(host);
}

export function bearerOk(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m?.[1]) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Every route: on a loopback connection the Host header must be a loopback name (403 otherwise). */
export function loopbackHostGuard(req: Request, res: Response, next: NextFunction): void {
  if (isLoopbackAddress(req.socket.localAddress) && !isLoopbackHost(req.get('host'))) {
    res.status(403).json({ error: 'Host header is not a loopback name (the API answers only to localhost here)' });
    return;
  }
  next();
}

/** `/v1` reads: the bearer token when one is configured; without one, loopback connections only. */
export function readAccess(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token !== undefined) {
      if (bearerOk(req.get('authorization'), token)) return next();
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'bearer token required' });
      return;
    }
    if (isLoopbackAddress(req.socket.localAddress)) return next();
    res.status(403).json({ error: 'without --api-token-env, /v1 answers on loopback only' });
  };
}
