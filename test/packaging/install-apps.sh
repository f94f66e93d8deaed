#!/usr/bin/env bash
# Installs the two throwaway apps of test/packaging.test.ts from their lockfiles (NestJS 12
# ESM and NestJS 11 CommonJS). This is an install step, like `npm ci` at the root: the test
# itself then works offline, installing only the packed tarball of this package.
set -euo pipefail
cd "$(dirname "$0")"
for app in esm-app cjs-app; do
  if [ ! -f "$app/node_modules/.package-lock.json" ] || ! cmp -s "$app/package-lock.json" "$app/node_modules/.installed-lock.json"; then
    echo "installing test/packaging/$app"
    npm ci --prefix "$app" --no-audit --no-fund --loglevel=error
    cp "$app/package-lock.json" "$app/node_modules/.installed-lock.json"
  fi
done
