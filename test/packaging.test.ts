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

/**
 * Runs a command without a shell; its standard output is returned, followed by its standard
 * error with `withStderr` (Jest reports there). Everything is shown when it fails.
 */
async function sh(command: string, args: string[], cwd: string, { withStderr = false } = {}): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
    return withStderr ? `${stdout}\n${stderr}` : stdout;
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

  it('contains only what users need: both builds (JavaScript and type declarations), the documentation, README, LICENSE', () => {
    for (const build of ['esm', 'cjs']) {
      for (const entry of ['index', 'testing/index']) {
        assert.ok(files.includes(`dist/${build}/${entry}.js`) && files.includes(`dist/${build}/${entry}.d.ts`), `dist/${build}/${entry}`);
      }
    }
    assert.ok(files.includes('dist/cjs/package.json'), 'the CommonJS folder is marked as CommonJS');
    assert.ok(files.includes('README.md') && files.includes('LICENSE') && files.includes('package.json'));
    // The documentation ships too, so that the README's links to docs/ work in node_modules.
    const unexpected = files.filter((file) => !/^dist\/(esm|cjs)\/.+\.(js|d\.ts)$/.test(file) && !/^docs\/[a-z-]+\.md$/.test(file) && !['README.md', 'LICENSE', 'package.json', 'dist/cjs/package.json'].includes(file));
    assert.ok(files.includes('docs/realtime.md'), 'the documentation pages are in the package');
    assert.deepEqual(unexpected, []);
  });

  it('passes publint', async () => {
    assert.match(await sh('npx', ['publint', '--strict'], root), /All good/);
  });

  it('passes @arethetypeswrong/cli with no exception: import gets the ESM build, require the CommonJS one', async () => {
    const report = await sh('npx', ['attw', tarball, '--format', 'json'], root);
    const { analysis } = JSON.parse(report);
    assert.deepEqual(analysis.problems, []);
  });

  // Apps created from the templates of `nest new` (see test/packaging/README.md), each tested
  // by its own runner with its default configuration.
  const apps = [
    { app: 'nest12-esm-vitest', nest: '12.', format: 'esm' },
    { app: 'nest12-cjs-jest', nest: '12.', format: 'commonjs', minNode: [24, 9] },
    { app: 'nest11-cjs-jest', nest: '11.', format: 'commonjs' },
  ] as const;
  const [major, minor] = process.versions.node.split('.').map(Number);
  for (const { app, nest, format, ...rest } of apps) {
    const minNode = 'minNode' in rest ? rest.minNode : undefined;
    // NestJS 12 is ES modules only, and Jest's require loads ES modules only on Node 24.9+.
    const skip = minNode !== undefined && (major < minNode[0] || (major === minNode[0] && minor < minNode[1])) ? `Jest loads NestJS 12 (ES modules) only on Node ${minNode.join('.')}+` : false;
    it(`installs into ${app}, whose own test runner completes a login and a socket.io connection, and which builds and runs with node`, { skip }, async () => {
      const dir = join(appsDir, app);
      assert.ok(existsSync(join(dir, 'node_modules/.package-lock.json')), `test/packaging/${app} is not installed: run bash test/packaging/install-apps.sh (npm test does)`);
      // The app's own dependencies come from its lockfile; only this package's tarball is added.
      // Not --offline: resolving the tarball's peers needs the packuments, which a fresh machine's
      // npm cache does not hold (npm ci installs from tarballs alone).
      await sh('npm', ['install', tarball, '--prefer-offline', '--no-save', '--no-audit', '--no-fund'], dir);
      const installed = await import(join(dir, 'node_modules/@nestjs/core/package.json'), { with: { type: 'json' } });
      assert.ok(installed.default.version.startsWith(nest), `NestJS ${installed.default.version}`);
      rmSync(join(dir, 'src'), { recursive: true, force: true });
      // A build from an earlier run (dist/, and TypeScript 6's build info beside tsconfig.json) goes too.
      for (const built of ['dist', 'tsconfig.build.tsbuildinfo']) rmSync(join(dir, built), { recursive: true, force: true });
      mkdirSync(join(dir, 'src'));
      copyFileSync(join(appsDir, 'shared/cognito-login.spec.ts'), join(dir, 'src/cognito-login.spec.ts'));
      copyFileSync(join(appsDir, 'shared/realtime.spec.ts'), join(dir, 'src/realtime.spec.ts'));
      copyFileSync(join(appsDir, 'shared/main.ts'), join(dir, 'src/main.ts'));

      const help = await sh('npx', ['--no-install', 'nestjs-cognito-lowlevel', 'local-cognito', '--help'], dir);
      assert.match(help, /Usage: npx nestjs-cognito-lowlevel local-cognito/, 'the local-cognito command is installed as a bin');

      const tests = await sh('npm', ['test'], dir, { withStderr: true });
      assert.match(tests, /5 passed/, tests); // the login spec's 3 and the WebSocket spec's 2

      await sh('npx', ['tsc', '-p', 'tsconfig.build.json'], dir); // the package's types resolve for this kind of app
      const output = await sh('node', ['dist/main.js'], dir);
      const line = output.split('\n').find((text) => text.startsWith('RESULT '));
      assert.ok(line, output);
      assert.deepEqual(JSON.parse(line.slice(7)), { format, status: 302, location: '/', user: 'packaged-user' });
    });
  }

  it('refuses to load both builds in one app (their injection tokens would differ)', async () => {
    const dir = join(appsDir, 'nest12-esm-vitest');
    const script = [
      "import 'nestjs-cognito-lowlevel';",
      "import { createRequire } from 'node:module';",
      "try { createRequire(import.meta.url)('nestjs-cognito-lowlevel'); console.log('loaded both'); } catch (error) { console.log(error.message); }",
    ].join('\n');
    const output = await sh('node', ['--input-type=module', '--no-warnings', '-e', script], dir);
    assert.match(output, /being loaded as CommonJS after its ES module build was loaded/);
  });
});
