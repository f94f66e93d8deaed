#!/usr/bin/env bash
# `npm run build`: the two builds the package ships, from the same sources.
#   dist/esm  ES modules, for `import` (NestJS 12 ESM apps, Vitest)
#   dist/cjs  CommonJS, for `require` (NestJS 11 and CommonJS NestJS 12 apps, Jest + ts-jest)
# package.json's conditional exports pick one per app; lib/single-build.ts refuses to load both.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
npx tsc -p tsconfig.build.cjs.json
# The package is "type": "module"; this marks the CommonJS folder as such, for Node and for
# TypeScript (its .d.ts files then describe CommonJS modules).
echo '{ "type": "commonjs" }' > dist/cjs/package.json
