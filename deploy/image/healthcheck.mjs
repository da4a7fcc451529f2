// HEALTHCHECK for the sealwatch image: GET /healthz (or the path given as argument, e.g. /readyz) on the watcher's API.
// Kubernetes probes use it as an exec probe, so the API can stay on the pod's loopback.
// The address comes from SEALWATCH_LISTEN (host:port, as `sealwatch watch --listen`), default 127.0.0.1:9464.
// Exit 0 when the watcher answers 2xx within 2 s, else 1. Needs no curl/wget in the image.
const path = process.argv[2] ?? '/healthz';
if (!/^\/[a-z/]*$/.test(path)) {
  process.stderr.write(`healthcheck: ${JSON.stringify(path)} is not an API path\n`);
  process.exit(1);
}
const listen = process.env.SEALWATCH_LISTEN ?? '127.0.0.1:9464';
const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
if (!match) {
  process.stderr.write(`healthcheck: SEALWATCH_LISTEN=${JSON.stringify(listen)} is not host:port\n`);
  process.exit(1);
}
const host = match[1] ?? match[2];
const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
try {
  const response = await fetch(`http://${target}:${match[3]}${path}`, { signal: AbortSignal.timeout(2000) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
