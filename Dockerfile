# The Counterparty jobs image: every job of docs/ARCHITECTURE.md (export-postgres, sync-objects, copy,
# verify, restore, verify-and-restore, mirror, prune, ...) runs from it: `docker run <image> <command>`
# with the command's environment variables. Built from the repo; see docs/runtime.md.
#   docker build -t counterparty-jobs:0.1.0 .
# Node 24 LTS on Debian trixie (test/gcp/dockerfile.test.ts checks these facts; no Docker engine here).
FROM node:24-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY lib ./lib
COPY bin ./bin
COPY stacks ./stacks
RUN npm run build
# The image's own dependency set (the package's runtime SDKs are optional peers, so the root package.json
# no longer lists them as dependencies): exactly what the jobs import at run time, from its own lock file.
COPY scripts/pack/jobs-image/package.json scripts/pack/jobs-image/package-lock.json /deps/
RUN cd /deps && npm ci --omit=dev --no-audit --no-fund

FROM node:24-trixie-slim
# From Debian trixie:
# - postgresql-client-17: pg_dump/pg_restore 17 dump and restore servers 13-17 (a pg_dump refuses a newer server);
# - rclone: the Azure copy job;
# - skopeo: the image mirror (registry-to-registry copies by digest);
# - amazon-ecr-credential-helper: skopeo's credential helper for ECR (docker-credential-ecr-login), fed the
#   mirror's temporary AWS credentials, so the mirror never handles ECR's token protocol itself.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-17 rclone skopeo amazon-ecr-credential-helper ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /deps/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Fargate creates a task's /tmp bind mount root-owned unless the image declares the volume: ECS then copies
# the image's /tmp (and its ownership) into it, so the non-root jobs user (node, 1000:1000, as the AWS task
# definitions run it) can write temp files there (ECS "Use bind mounts", aws/containers-roadmap#938).
RUN mkdir -p /tmp && chown node:node /tmp && chmod 1777 /tmp
VOLUME ["/tmp"]
USER node
ENTRYPOINT ["node", "dist/bin/counterparty-job.js"]
