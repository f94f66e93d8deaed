import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cognitoOptionsFromEnv, type CognitoModuleOptions } from '../lib/index.js';
import { HostedUiBrowser } from '../lib/testing/index.js';
import { cookiePairs, get, startApp } from './support/app.js';
import { COOKIE_SECRET } from './support/module.js';

/** `npx nestjs-cognito-lowlevel local-cognito`, run as a user runs it, and an app configured from what it prints. */
const cli = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'lib/cli.js');

interface Running {
  child: ChildProcess;
  env: Record<string, string>;
  /** Everything it printed so far. */
  output(): string;
}

async function runLocalCognito(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [cli, 'local-cognito', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s:\n${output}`)), 20_000);
    child.stdout!.on('data', () => {
      if (output.includes('Ctrl-C stops')) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  const env = Object.fromEntries(output.split('\n').filter((line) => /^COGNITO_[A-Z_]+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  return { child, env, output: () => output };
}

async function stop(running: Running): Promise<number | null> {
  const exited = new Promise<number | null>((resolveExit) => running.child.once('exit', (code) => resolveExit(code)));
  running.child.kill('SIGTERM');
  return exited;
}

describe('npx nestjs-cognito-lowlevel local-cognito', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-cognito-cli-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints the COGNITO_* lines an app needs, logs each sign-in, and comes back on the same port from its data directory', async () => {
    const first = await runLocalCognito(['--port', '0', '--data-dir', dataDir]);
    let app;
    try {
      assert.deepEqual(Object.keys(first.env).sort(), ['COGNITO_CLIENT_ID', 'COGNITO_HOST', 'COGNITO_ISSUER', 'COGNITO_REDIRECT_URL', 'COGNITO_USERPOOL_REGION', 'COGNITO_USER_POOL_ID']);
      assert.match(first.output(), /Users: alice \/ alice-password/);
      // The app reads its settings from the environment, as the README shows.
      const options = { ...cognitoOptionsFromEnv(first.env), cookieSecret: COOKIE_SECRET } as CognitoModuleOptions;
      app = await startApp('express', options);
      const started = await get(`${app.url}/auth/login`);
      const redirect = await new HostedUiBrowser().signIn(started.location!, { username: 'alice', password: 'alice-password' });
      const finished = await get(`${app.url}${redirect.pathname}${redirect.search}`, cookiePairs(started.setCookies));
      assert.equal(finished.location, '/');
      assert.equal(app.recorder.successes[0].idToken['cognito:username'], 'alice');
      await new Promise((wait) => setTimeout(wait, 100));
      assert.match(first.output(), /alice signed in \(app client localapp\)/);
    } finally {
      await app?.close();
      assert.equal(await stop(first), 0);
    }

    const second = await runLocalCognito(['--data-dir', dataDir]);
    try {
      assert.deepEqual(second.env, first.env, 'same port, same pool: the app needs no new settings');
    } finally {
      assert.equal(await stop(second), 0);
    }
  });

  it('answers --help, and refuses an unknown command or a bad port with a message', async () => {
    const { execFile } = await import('node:child_process');
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((done) => {
        execFile(process.execPath, [cli, ...args], (error, stdout, stderr) => done({ code: error ? (error.code as number) : 0, out: stdout + stderr }));
      });
    const help = await run(['local-cognito', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /--data-dir <dir>/);
    const unknown = await run(['bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.out, /Unknown command "bogus"/);
    const badPort = await run(['local-cognito', '--port', 'http']);
    assert.equal(badPort.code, 1);
    assert.match(badPort.out, /--port must be a port number/);
  });
});
