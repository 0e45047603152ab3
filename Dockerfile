# Escalator: one image for every process.
#   default              the gateway (HTTP on $PORT, 3000 by default)
#   node dist/worker.js  the Temporal worker (metrics on 9464, Temporal SDK metrics on 9465)
#   node dist/db/migrate-cli.js && node dist/infra/temporal-setup.js
#                        one-shot: database migrations, then Temporal namespace and search attributes;
#                        the gateway and the worker refuse to start until the migrations are applied
# docker-compose.yml runs all of them.

FROM node:20-bookworm-slim AS build
WORKDIR /app

# Dependencies first, so that a source change reuses this layer. Install scripts stay off (npm 11
# does the same without approvals): none is needed, and @prisma/engines' would download engines
# that the app never uses. The Prisma client is generated from the schema explicitly instead.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci --ignore-scripts --no-audit --no-fund && npm run generate

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# glibc malloc keeps up to 8 arenas per core, one per thread that allocates (the Temporal core's
# Rust threads, libuv's pool, the workflow thread), and each arena keeps what it freed: 2 arenas
# took 40-50 MiB off the worker's RSS with 1,000 open alerts, at the cost of threads waiting on
# each other's malloc lock now and then (not measurable here). docs/performance.md, "Memory".
ENV MALLOC_ARENA_MAX=2
# A young generation of 2 x 8 MiB per V8 isolate (the main thread and the workflow thread)
# instead of Node 20's 2 x 16 MiB: 16 MiB less per isolate, paid with twice as many (each as
# short) young-generation collections.
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
# Owned by root and read-only for the app's user: the processes write nothing to disk.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# src/db/migrate.ts reads the migrations from ../../prisma/migrations beside dist/db/.
COPY --from=build /app/prisma/migrations ./prisma/migrations
USER node
EXPOSE 3000
# A full collection once the old generation has grown by half since the last one, not when V8's
# own guess (up to 4x) says: peaks 563 -> 402 MiB with 1,000 alerts posting. Costs more full
# collections; V8 takes this flag only on the command line (not in NODE_OPTIONS), so
# docker-compose.yml's commands pass it too.
CMD ["node", "--heap-growing-percent=50", "dist/api/main.js"]
