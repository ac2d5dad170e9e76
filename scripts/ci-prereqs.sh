#!/usr/bin/env bash
# Installs what the runtime tests and `npm run drill` need that npm does not bring:
#   - rclone (Debian package) for the Azure counterparty's `copy` job.
# Idempotent: does nothing when rclone is already on PATH. Needs root (CI and dev machines are root)
# or sudo. PostgreSQL 15 binaries and moto_server are on the image already; this script only checks them.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

if ! command -v rclone >/dev/null 2>&1; then
  echo "ci-prereqs: installing rclone from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends rclone >/dev/null
fi
echo "ci-prereqs: $(rclone version 2>/dev/null | head -1)" >&2

# Graphviz `dot` renders the plan report's topology SVG (npm run plan-report, test/report).
if ! command -v dot >/dev/null 2>&1; then
  echo "ci-prereqs: installing graphviz from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends graphviz >/dev/null
fi

# rclone's S3 backend chokes on AWS_CA_BUNDLE pointing at a proxy bundle; the copy module
# unsets it for the rclone child process itself (lib/runtime/copy.ts), nothing to do here.

missing=""
for bin in moto_server initdb pg_ctl pg_dump pg_restore psql; do
  command -v "$bin" >/dev/null 2>&1 || missing="$missing $bin"
done
if [ -n "$missing" ]; then
  echo "ci-prereqs: missing on PATH:$missing (the drill and runtime tests need moto_server and PostgreSQL 15 binaries)" >&2
  exit 1
fi
