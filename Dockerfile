# syntax=docker/dockerfile:1
# Node.js 24 (LTS until April 2028): Node 20 reached its end of life in April 2026.
# Build: compile TypeScript with the dev dependencies (esbuild, scripts/build.mjs). npm ci applies
# the driver's repairs (scripts/patches, patch-package: a dev dependency) and fails if one no longer
# applies; the production node_modules is that one, pruned, so the repairs come with it.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime: production dependencies, compiled code and migrations only, as a non-root user.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/var/lib/loyalty-ledger
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
RUN mkdir -p /var/lib/loyalty-ledger && chown node:node /var/lib/loyalty-ledger
USER node
EXPOSE 3000
# Embedded mode keeps its database and key here; with DATABASE_URL it stays unused.
VOLUME ["/var/lib/loyalty-ledger"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Migrate a real database first with: docker run ... node dist/cli/migrate.js
# node is PID 1 itself (exec form, no npm or shell in between), so SIGTERM from `docker stop`
# reaches the server: it drains and exits 0 well within Docker's 10 s grace period.
# --max-semi-space-size=8: V8's young generation capped at 8 MiB a semi-space (default 16 on 64-bit):
# about 15 MiB less resident memory at rest (docs/benchmarks.md, issue 20).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=8", "dist/server.js"]
