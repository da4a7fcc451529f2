# The sealwatch image: `sealwatch watch` as a sidecar (or `--docker` as a host agent).
#
#   npm ci && npm run build                       # node_modules/ and dist/ must exist in the context
#   docker build -t sealwatch:dev .               # public base: node:24-bookworm-slim
#   docker build --build-arg NODE_BASE=local/node-base -t sealwatch:dev .   # an air-gapped/local Node base
#   npm run image                                 # all of the above in one command, offline if it must be
#
# Why node_modules comes from the build context instead of `npm ci` inside the build: builds must work
# with no registry at all (this project's CI has none), and a bare Node base may not even carry npm.
# The context's node_modules was installed by `npm ci` from the committed lockfile, so it is the same
# tree `npm ci --omit=dev` would give; the deps stage removes the dev-only packages with a small offline
# script that reads package-lock.json. Our own code is prebuilt into dist/cli.mjs (`npm run build`).
# Native parts: native/sight (ours, see below) must be built first (npm run build:native); netlink ships N-API prebuilds (ABI-stable across Node 20..24); ssh2/cpu-features (optional
# deps of dockerode) load their addon in a try/catch and fall back to JS when it does not match.
# Build the image on the same OS/arch (linux-x64, glibc) as the base.
ARG NODE_BASE=node:24-bookworm-slim

FROM ${NODE_BASE} AS deps
WORKDIR /opt/sealwatch
COPY package.json package-lock.json ./
COPY node_modules/ ./node_modules/
COPY deploy/image/prune-dev-deps.mjs /tmp/prune-dev-deps.mjs
RUN ["node", "/tmp/prune-dev-deps.mjs", "/opt/sealwatch"]

FROM ${NODE_BASE}
WORKDIR /opt/sealwatch
COPY --from=deps /opt/sealwatch/node_modules/ ./node_modules/
COPY package.json ./
COPY bin/ ./bin/
COPY dist/ ./dist/
COPY deploy/image/healthcheck.mjs ./deploy/image/healthcheck.mjs
# Our N-API addon for file and connection sight (npm run build:native; scripts/setup.sh builds it). It needs glibc 2.34+
# (pthread_create; bookworm has 2.36) and N-API only (stable across Node 20..24). Without it the watcher runs with the poller alone.
COPY native/sight/build/Release/sight.node ./native/sight/build/Release/sight.node
# The outputs' disk spool (the default --spool-dir), owned by the runtime user; mount a volume here to keep
# undelivered events across restarts; and the `sealwatch` command on PATH. Exec-form RUN with node, which
# every base has: a bare base (`npm run image` without a registry) may have no shell, mkdir, chown or ln.
RUN ["node", "-e", "const fs=require('fs');fs.mkdirSync('/var/lib/sealwatch/spool',{recursive:true});for(const d of ['/var/lib/sealwatch','/var/lib/sealwatch/spool'])fs.chownSync(d,10001,10001);fs.symlinkSync('/opt/sealwatch/bin/sealwatch.js','/usr/local/bin/sealwatch')"]
# --max-semi-space-size=2: caps V8's young generation (32 MiB by default) for bursts (a fork storm, an event
# flood). An idle watcher no longer needs it: with 100 processes and 1,000 sockets it stays near 66 MiB either
# way since /proc is read into one reused buffer (bench/watch-load.bench.ts).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=2 \
    HOME=/tmp \
    SEALWATCH_LISTEN=127.0.0.1:9464
# Non-root by default. A watcher only reads /proc entries of processes with its own uid unless it holds
# CAP_SYS_PTRACE, and can only SIGKILL them (enforce) with CAP_KILL. Kubernetes and Docker do not give
# added capabilities to a non-root user (no ambient capabilities), so when the app runs as another user the
# sidecar runs as uid 0 with every capability dropped except SYS_PTRACE and KILL (see deploy/).
USER 10001:10001
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "/opt/sealwatch/deploy/image/healthcheck.mjs"]
# node + the script, not the `sealwatch` link: a bare base may have no /usr/bin/env for its shebang.
ENTRYPOINT ["node", "/opt/sealwatch/bin/sealwatch.js", "watch"]
