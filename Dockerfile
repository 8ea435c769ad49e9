# syntax=docker/dockerfile:1
# wallaroo-gateway: build with dev dependencies, run with production dependencies only.
# test/deploy/production-install.test.ts reproduces the runtime stage (npm ci --omit=dev, start dist/, /readyz).

FROM node:24-bookworm-slim AS build
WORKDIR /app
# .npmrc with the lock file: its omit=peer keeps npm from installing peers nothing here needs (aws-cdk-lib).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config.example.yaml ./
# The official image's unprivileged user (uid 1000); the root filesystem can be read-only (nothing is written).
USER node
EXPOSE 8080 9090
# No HEALTHCHECK: Kubernetes ignores it and uses the chart's probes (/healthz, /readyz on the metrics port), and
# a fixed one would be wrong for many configs (server.tls, a port other than 8080, traffic on 127.0.0.1 only).
# With plain `docker run`, check http(s)://HOST:PORT/healthz from outside.
# No init process: the exec form makes node itself PID 1. The kernel gives PID 1 no default signal actions, but the
# gateway handles SIGTERM and SIGINT itself (it drains, then exits 0), and it starts no child processes, so there
# are no orphans to reap. Add an init (docker run --init, or tini) only if that changes.
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve", "--config", "/etc/wallaroo-gateway/config.yaml"]
