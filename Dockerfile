# syntax=docker/dockerfile:1
# wallaroo-gateway: build with dev dependencies, run with production dependencies only.
# test/deploy/production-install.test.ts reproduces the runtime stage (npm ci --omit=dev, start dist/, /readyz).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config.example.yaml ./
# The official image's unprivileged user (uid 1000); the root filesystem can be read-only (nothing is written).
USER node
EXPOSE 8080 9090
# Kubernetes uses the chart's probes on /healthz and /readyz; this serves plain `docker run`.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: Node is PID 1's direct child of nothing, so SIGTERM reaches it and the gateway drains.
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve", "--config", "/etc/wallaroo-gateway/config.yaml"]
