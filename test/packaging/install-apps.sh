#!/usr/bin/env bash
# Installs the throwaway apps of test/packaging.test.ts from their lockfiles. This is an install
# step, like `npm ci` at the root: the test itself then works offline, installing only the packed
# tarball of this package. Each app was created from `nest new`'s templates (see README.md here).
set -euo pipefail
cd "$(dirname "$0")"
for app in nest12-esm-vitest nest12-cjs-jest nest11-cjs-jest; do
  if [ ! -f "$app/node_modules/.package-lock.json" ] || ! cmp -s "$app/package-lock.json" "$app/node_modules/.installed-lock.json"; then
    echo "installing test/packaging/$app"
    # npm install with the lockfile (not npm ci): Vite lists a Windows-only optional dependency
    # that this registry does not serve, so the lockfile cannot record it and npm ci refuses.
    # --no-save keeps the lockfile as committed; the versions installed are the lockfile's.
    (cd "$app" && npm install --no-save --no-audit --no-fund --loglevel=error)
    cp "$app/package-lock.json" "$app/node_modules/.installed-lock.json"
  fi
done
