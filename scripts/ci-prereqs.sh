#!/usr/bin/env bash
# Installs what the tests, `npm run drill` and `npm run plan-report` need that npm does not bring:
# rclone, skopeo and graphviz, from Debian. Idempotent: installs only what is missing from PATH. Needs root (CI and dev machines are root)
# or sudo. PostgreSQL 15 binaries and moto_server are on the image already; this script only checks them.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

# install <command> <debian package> <why>: one apt-get install when the command is missing.
install() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "ci-prereqs: installing $2 from Debian ($3)" >&2
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
    $SUDO apt-get install -y -qq --no-install-recommends "$2" >/dev/null
  fi
}
install rclone rclone "the Azure counterparty's copy job"
install skopeo skopeo "the image mirror job; test/runtime/mirror.test.ts copies between OCI layouts with it"
install dot graphviz "renders the plan report's topology SVG"
echo "ci-prereqs: $(rclone version 2>/dev/null | head -1); $(skopeo --version); $(dot -V 2>&1)" >&2

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
