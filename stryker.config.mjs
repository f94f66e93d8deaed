// Mutation testing (`npm run mutate`): StrykerJS changes the security code in small ways and
// checks that some test fails for each change. See docs/testing.md.
// Mutants are placed in the TypeScript sources (all at once, switched on one at a time at run
// time), the sandbox is compiled with tsc, and the tap runner runs each compiled test file as its
// own node process (node:test speaks TAP): coverage is per file, so a mutant runs only the files
// that reach it.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

// The compiled tests must be current before StrykerJS reads them for the incremental diff (the
// sandbox compiles everything again anyway).
execSync('npx tsc -p tsconfig.json', { stdio: 'inherit' });

const folders = (process.env.MUTATE ?? 'login,session,guards,realtime,fleet,tokens,http').split(',');
/** The packaging, browser and bench tests reach the same code through slower doors. */
const slow = new Set(['packaging.test.ts', 'browser.e2e.test.ts', 'bench.test.ts']);
/**
 * Files that wait on clocks (token expiry, key-set lifetimes) go last: a mutant stops at the
 * first file that fails, so the quick files kill most mutants before these start.
 */
const last = ['jwks-verifier.test.ts', 'guard.sources.e2e.test.ts', 'verifier.attacks.test.ts', 'removed-key.test.ts', 'session.e2e.test.ts'];
const compiled = (folder) => (name) => `build/${folder}/${name.replace(/\.ts$/, '.js')}`;
/** Direct tests of the services behind the HTTP layer (`test/unit/`): they take a second, so they run first. */
const unitFiles = existsSync('test/unit')
  ? readdirSync('test/unit')
      .filter((name) => name.endsWith('.test.ts'))
      .sort()
      .map(compiled('test/unit'))
  : [];
const testFiles = [
  ...unitFiles,
  ...readdirSync('test')
    .filter((name) => name.endsWith('.test.ts') && !slow.has(name))
    .sort((a, b) => last.indexOf(a) - last.indexOf(b) || a.localeCompare(b))
    .map(compiled('test')),
];

export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  mutate: folders.map((folder) => `lib/${folder}/**/*.ts`),
  buildCommand: 'npx tsc -p tsconfig.json',
  tap: {
    testFiles,
    nodeArgs: ['-r', '{{hookFile}}', '--test-reporter=tap', '{{testFile}}'],
    forceBail: true,
  },
  coverageAnalysis: 'perTest',
  incremental: true,
  // Kept in the repository, so a rerun (in another session too) tests only what changed.
  incrementalFile: 'test/mutation/incremental.json',
  concurrency: 2,
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // build/test stays in: the incremental differ knows a test by its compiled file, and counts a
  // test file it cannot read as removed, which would make every run start from scratch.
  ignorePatterns: ['/test/packaging', '/dist', '/build/*', '!/build/test', '/test-output', '/reports', '/docs', '*.tgz'],
  thresholds: { high: 90, low: 85, break: null },
  cleanTempDir: 'always',
};
