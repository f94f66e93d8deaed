import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map((match) => match[1]);
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

describe('package', () => {
  it('declares every package that lib/ imports as a dependency or peer dependency', () => {
    const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
    const missing = new Set<string>();
    for (const file of sourceFiles(join(root, 'lib'))) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        if (!declared.has(packageName(specifier))) missing.add(`${packageName(specifier)} (${file.slice(root.length + 1)})`);
      }
    }
    assert.deepEqual([...missing], []);
  });

  it('keeps oidc-provider and the testing helpers out of the main entry point', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of importsOf(file)) {
        assert.notEqual(packageName(specifier), 'oidc-provider', `${file} imports oidc-provider`);
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      }
    };
    visit(join(root, 'lib/index.ts'));
    assert.ok(seen.size > 10);
    assert.deepEqual([...seen].filter((file) => file.includes('/testing/')), []);
  });

  it('marks oidc-provider as an optional peer and exports the testing subpath', () => {
    assert.equal(pkg.peerDependenciesMeta['oidc-provider'].optional, true);
    assert.ok(pkg.exports['./testing']);
    assert.equal(pkg.type, 'module');
  });
});
