# syntax=docker/dockerfile:1
# pos-auth in a container: a build stage compiles the workspace; the runtime stage holds only the
# production file tree that scripts/production-tree.mjs writes (production dependencies, compiled
# code, no sources, tests or embedded PostgreSQL: the image needs DATABASE_URL).
# No container engine runs where this project is developed and tested: the test
# packages/http/src/e2e/production-tree.e2e.test.ts builds the same tree with the same script,
# starts this file's CMD from it, and runs this file's HEALTHCHECK against it.
#
#   docker build -t pos-auth .
#   docker compose up          (with PostgreSQL: compose.yaml)

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
RUN npm install --global pnpm@12.4.2
WORKDIR /workspace
# The manifests first, so that the install layer is rebuilt only when a dependency changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/domain/package.json packages/domain/
COPY packages/contract/package.json packages/contract/
COPY packages/infrastructure/package.json packages/infrastructure/
COPY packages/http/package.json packages/http/
COPY packages/sdk/package.json packages/sdk/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm build
RUN node scripts/production-tree.mjs /production

FROM ${NODE_IMAGE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 METRICS_PORT=9464 LOG_LEVEL=info
WORKDIR /app
# Owned by root and read-only to the service's user: it writes nothing here.
COPY --from=build /production ./
USER node
# 3000: the API; 9464: /metrics alone (METRICS_PORT), to publish to the scraper only.
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health/ready`).then((reply) => process.exit(reply.ok ? 0 : 1), () => process.exit(1))"]
# The service handles SIGTERM itself (drains requests, then closes the database) as PID 1.
CMD ["node", "bin/pos-auth.js", "start"]
