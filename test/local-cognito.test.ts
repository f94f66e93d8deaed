import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { CognitoModuleOptions } from '../lib/index.js';
import { LocalCognito, type LocalCognitoOptions } from '../lib/testing/index.js';
import { cookiePairs, get, startApp, witness, type TestApp } from './support/app.js';
import { COOKIE_SECRET } from './support/module.js';
import { closedPort } from './support/servers.js';

/**
 * A local Cognito that is restarted while an app runs: without `dataDir` it is a new pool whose
 * new key ids the app fetches at once; with `dataDir` it is the same pool, so the app's sessions
 * and refresh tokens keep working.
 */
const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };
const CLIENTS: LocalCognitoOptions['clients'] = [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] }];

/** The key ids a local Cognito publishes. */
async function kids(cognito: LocalCognito): Promise<string[]> {
  const { keys } = (await (await fetch(cognito.jwksUri)).json()) as { keys: { kid: string }[] };
  return keys.map((key) => key.kid).sort();
}

describe('LocalCognito restarted under a running app', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-cognito-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const options = (cognito: LocalCognito): CognitoModuleOptions => ({
    ...cognito.moduleOptions('webapp'),
    redirectUri: REDIRECT_URI,
    cookieSecret: COOKIE_SECRET,
    successRedirect: '/welcome',
    // Tokens live 60 s; with a 57 s margin a session refreshes 3 s after login.
    sessionRefreshMarginSeconds: 57,
  });

  async function login(app: TestApp, cognito: LocalCognito): Promise<string[]> {
    const started = await get(`${app.url}/auth/login`);
    const redirect = await cognito.signIn(started.location!, ALICE);
    const finished = await get(`${app.url}${redirect.pathname}${redirect.search}`, cookiePairs(started.setCookies));
    assert.equal(finished.location, '/welcome');
    return cookiePairs(finished.setCookies);
  }

  it('without dataDir, gives every start fresh random key ids, and a running app signs users in with the new keys once its JWKS cooldown allows a refetch', async () => {
    const port = await closedPort();
    let cognito = await LocalCognito.start({ users: [ALICE], clients: CLIENTS, port, tokenLifetimeSeconds: 60 });
    // An unknown kid refetches the key set at most once per cooldown (30 s by default; 1 s here).
    const app = await startApp('express', { ...options(cognito), jwksCooldownSeconds: 1 });
    app.recorder.establishSession = true;
    try {
      const firstKids = await kids(cognito);
      assert.equal(firstKids.length, 2);
      assert.ok(!firstKids.includes('access-token-key') && !firstKids.includes('id-token-key'));
      await login(app, cognito);

      await cognito.stop();
      cognito = await LocalCognito.start({ users: [ALICE], clients: CLIENTS, port, tokenLifetimeSeconds: 60 });
      const secondKids = await kids(cognito);
      assert.equal(secondKids.filter((kid) => firstKids.includes(kid)).length, 0, 'no key id is reused for another key');
      // The app still caches the first key set; the new kid makes it fetch the new one.
      await sleep(1100);
      const session = await login(app, cognito);
      assert.equal(app.recorder.successes.length, 2);
      assert.equal(JSON.parse((await get(`${app.url}/me`, session)).body).status, 'active');
      assert.equal(app.recorder.errors.length, 0);
    } finally {
      await app.close();
      await cognito.stop();
    }
  });

  it('with dataDir, comes back as the same pool: same port and keys, users kept, and a session made before the restart refreshes after it', async () => {
    const signIns: string[] = [];
    let cognito = await LocalCognito.start({ users: [ALICE], clients: CLIENTS, dataDir, tokenLifetimeSeconds: 60, onSignIn: ({ username, clientId }) => signIns.push(`${username}@${clientId}`) });
    const app = await startApp('express', options(cognito));
    app.recorder.establishSession = true;
    try {
      const before = { url: cognito.url, kids: await kids(cognito) };
      const session = await login(app, cognito);
      assert.deepEqual(signIns, ['alice@webapp']);
      const loggedInAt = Date.now();
      assert.equal(statSync(join(dataDir, 'local-cognito.json')).mode & 0o777, 0o600, 'private keys and passwords are readable by their owner only');

      await cognito.stop();
      // No port, no users: both come from dataDir.
      cognito = await LocalCognito.start({ clients: CLIENTS, dataDir, tokenLifetimeSeconds: 60 });
      assert.equal(cognito.url, before.url);
      assert.deepEqual(await kids(cognito), before.kids);

      await sleep(Math.max(0, 3500 - (Date.now() - loggedInAt)));
      const tokenRequests = cognito.requestCounts.get('/oauth2/token') ?? 0;
      const me = await get(`${app.url}/me`, session);
      assert.deepEqual(
        { ...JSON.parse(me.body), sub: undefined },
        { status: 'active', username: 'alice', refreshed: true, sub: undefined },
        'the refresh token issued before the restart is honoured after it',
      );
      assert.equal(cognito.requestCounts.get('/oauth2/token'), tokenRequests + 1);
      // The kept user signs in again, with nothing passed but the directory.
      await login(app, cognito);
    } finally {
      await app.close();
      await cognito.stop();
    }
  });

  it('refuses a data directory it did not write', async () => {
    const { writeFileSync } = await import('node:fs');
    const other = mkdtempSync(join(tmpdir(), 'local-cognito-other-'));
    try {
      writeFileSync(join(other, 'local-cognito.json'), JSON.stringify({ version: 99 }));
      await assert.rejects(() => LocalCognito.start({ clients: CLIENTS, dataDir: other }), /was not written by this version of LocalCognito/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('no code, token, cookie value or client secret reached the log', () => witness.assertNoSecretLogged());
});
