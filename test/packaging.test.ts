import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const appsDir = join(root, 'test/packaging');

/** Runs a command without a shell; its standard output is returned (everything is shown when it fails). */
async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

describe('the published package', () => {
  let packDir: string;
  let tarball: string;
  let files: string[];

  before(async () => {
    packDir = mkdtempSync(join(tmpdir(), 'cognito-pack-'));
    // prepack builds first and prints its own lines; the JSON report comes last.
    const [packed] = JSON.parse(await sh('npm', ['pack', '--json', '--pack-destination', packDir], root).then((out) => out.slice(out.lastIndexOf('\n[\n') + 1)));
    tarball = join(packDir, packed.filename);
    files = packed.files.map((file: { path: string }) => file.path);
  });
  after(() => rmSync(packDir, { recursive: true, force: true }));

  it('contains only what users need: built JavaScript, type declarations, README, LICENSE', () => {
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'));
    assert.ok(files.includes('dist/testing/index.js') && files.includes('dist/testing/index.d.ts'));
    assert.ok(files.includes('README.md') && files.includes('LICENSE') && files.includes('package.json'));
    const unexpected = files.filter((file) => !/^dist\/.+\.(js|d\.ts)$/.test(file) && !['README.md', 'LICENSE', 'package.json'].includes(file));
    assert.deepEqual(unexpected, []);
  });

  it('passes publint', async () => {
    assert.match(await sh('npx', ['publint', '--strict'], root), /All good/);
  });

  it('passes @arethetypeswrong/cli, except the deliberate ESM-only entry (CommonJS apps load it with require(esm), Node 20.19+)', async () => {
    await sh('npx', ['attw', tarball, '--ignore-rules', 'cjs-resolves-to-esm'], root);
  });

  for (const [app, expected] of [
    ['esm-app', { format: 'esm', nest: '12.' }],
    ['cjs-app', { format: 'commonjs', nest: '11.' }],
  ] as const) {
    it(`installs into a ${expected.format === 'esm' ? 'NestJS 12 ESM' : 'NestJS 11 CommonJS'} app, which builds, boots and completes a login against the local Cognito`, async () => {
      const dir = join(appsDir, app);
      assert.ok(existsSync(join(dir, 'node_modules/.package-lock.json')), `test/packaging/${app} is not installed: run bash test/packaging/install-apps.sh (npm test does)`);
      // The app's own dependencies come from its lockfile; only this package's tarball is added.
      // Not --offline: resolving the tarball's peers needs the packuments, which a fresh machine's
      // npm cache does not hold (npm ci installs from tarballs alone).
      await sh('npm', ['install', tarball, '--prefer-offline', '--no-save', '--no-audit', '--no-fund'], dir);
      const nest = await import(join(dir, 'node_modules/@nestjs/core/package.json'), { with: { type: 'json' } });
      assert.ok(nest.default.version.startsWith(expected.nest), `NestJS ${nest.default.version}`);
      mkdirSync(join(dir, 'src'), { recursive: true });
      copyFileSync(join(appsDir, 'app-main.ts'), join(dir, 'src/main.ts'));
      await sh('npx', ['tsc', '-p', 'tsconfig.json'], dir); // the package's types resolve for this kind of app
      const output = await sh('node', ['dist/main.js'], dir);
      const line = output.split('\n').find((text) => text.startsWith('RESULT '));
      assert.ok(line, output);
      assert.deepEqual(JSON.parse(line.slice(7)), { format: expected.format, status: 302, location: '/', user: 'packaged-user' });
    });
  }
});
