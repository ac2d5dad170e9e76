# The Counterparty jobs image: every job of docs/ARCHITECTURE.md (export-postgres, sync-objects, copy,
# verify, restore, verify-and-restore, ...) runs from it: `docker run <image> <command>` with the
# command's environment variables. Built from the repo; see docs/runtime.md.
#   docker build -t counterparty-jobs:0.1.0 .
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY lib ./lib
COPY bin ./bin
COPY stacks ./stacks
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
# pg_dump/pg_restore 15 (the dump and restore jobs) and rclone (the Azure copy job), from Debian bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 rclone ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER node
ENTRYPOINT ["node", "dist/bin/counterparty-job.js"]
