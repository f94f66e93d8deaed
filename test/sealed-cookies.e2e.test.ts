import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { CognitoModuleOptions } from '../lib/index.js';
import { CookieSealer } from '../lib/http/cookie-sealer.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, get, localOptions, PLATFORMS, startApp, witness, type TestApp } from './support/app.js';
import { COOKIE_SECRET } from './support/module.js';

/**
 * The sealed login and session cookies, attacked where the crypto is: every part of the JWE
 * (header, IV, ciphertext, tag), a cookie sealed under another secret, an expired seal, a state
 * that opens but is not the callback's, and session chunks that are missing or mixed.
 */
const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com', groups: Array.from({ length: 24 }, (_, i) => `group-${i}-${'x'.repeat(32)}`) };
/** So many groups that the session fits in three cookies only without the ID token. */
const CAROL = { username: 'carol', password: 'another good password', email: 'carol@example.com', groups: Array.from({ length: 80 }, (_, i) => `team-${i}-${'y'.repeat(42)}`) };
const OTHER_SECRET = 'PQ8LGEv9sOoxbqmnzIv4PXeIxq-GYkyVV2wgeiR7PU0';

/** Changes one character in the middle of part `index` of a compact JWE (`header..iv.ciphertext.tag`). */
function tamper(value: string, index: number): string {
  const parts = value.split('.');
  const part = parts[index];
  const at = Math.floor(part.length / 2);
  parts[index] = `${part.slice(0, at)}${part[at] === 'A' ? 'B' : 'A'}${part.slice(at + 1)}`;
  return parts.join('.');
}
const JWE_PARTS: [string, number][] = [
  ['protected header', 0],
  ['IV', 2],
  ['ciphertext', 3],
  ['authentication tag', 4],
];

const splitPair = (pair: string): [string, string] => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];

for (const platform of PLATFORMS) {
  describe(`sealed cookies under attack (${platform})`, () => {
    let cognito: LocalCognito;
    let testApp: TestApp;
    let otherApp: TestApp;

    const options = (overrides: Partial<CognitoModuleOptions> = {}) => localOptions(cognito, REDIRECT_URI, overrides);

    async function startLogin(app: TestApp) {
      const started = await get(`${app.url}/auth/login`);
      const authorizeUrl = new URL(started.location!);
      return { authorizeUrl, state: authorizeUrl.searchParams.get('state')!, cookie: cookiePairs(started.setCookies)[0] };
    }

    /** A whole login on `app`; returns the session cookies the browser keeps. */
    async function session(app: TestApp): Promise<string[]> {
      const { authorizeUrl, cookie } = await startLogin(app);
      const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
      const finished = await get(`${app.url}${redirect.pathname}${redirect.search}`, [cookie]);
      assert.equal(finished.location, '/welcome');
      return cookiePairs(finished.setCookies).filter((pair) => pair.startsWith('cognito-session.'));
    }

    const me = async (cookies: string[]) => JSON.parse((await get(`${testApp.url}/me`, cookies)).body);

    before(async () => {
      cognito = await LocalCognito.start({ users: [ALICE, CAROL], clients: [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] }] });
      testApp = await startApp(platform, options({ sessionIncludeIdToken: true }));
      otherApp = await startApp(platform, options({ cookieSecret: OTHER_SECRET, sessionIncludeIdToken: true }));
    });
    after(async () => {
      await testApp?.close();
      await otherApp?.close();
      await cognito?.stop();
    });
    beforeEach(() => {
      for (const app of [testApp, otherApp]) {
        app.recorder.establishSession = true;
        app.recorder.successes = [];
      }
    });

    describe('login cookie', () => {
      for (const [part, index] of JWE_PARTS) {
        it(`refuses a login cookie whose ${part} was altered (login_cookie_invalid)`, async () => {
          const { authorizeUrl, cookie } = await startLogin(testApp);
          const [name, value] = splitPair(cookie);
          const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
          const response = await get(`${testApp.url}${redirect.pathname}${redirect.search}`, [`${name}=${tamper(value, index)}`]);
          assert.equal(response.location, '/login-error?error=login_cookie_invalid');
          assert.equal(testApp.recorder.successes.length, 0);
        });
      }

      it('refuses a login cookie sealed under another secret', async () => {
        // Started on an app with another secret: same cookie name scheme, a key the callback cannot open.
        const { authorizeUrl, cookie } = await startLogin(otherApp);
        const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
        const response = await get(`${testApp.url}${redirect.pathname}${redirect.search}`, [cookie]);
        assert.equal(response.location, '/login-error?error=login_cookie_invalid');
      });

      it('refuses a login cookie that opens but holds another login (the state comparison itself)', async () => {
        const first = await startLogin(testApp);
        const second = await startLogin(testApp);
        // The second login's cookie name, carrying the first login's sealed value.
        const [secondName] = splitPair(second.cookie);
        const [, firstValue] = splitPair(first.cookie);
        const redirect = await cognito.signIn(second.authorizeUrl.toString(), ALICE);
        const response = await get(`${testApp.url}${redirect.pathname}${redirect.search}`, [`${secondName}=${firstValue}`]);
        assert.equal(response.location, '/login-error?error=state_mismatch');
        assert.equal(testApp.recorder.successes.length, 0);
      });

      it('refuses a login cookie whose seal has expired, whatever the browser kept (login_expired)', async () => {
        const state = 'expired-state-value';
        const sealed = await testApp.app.get(CookieSealer).seal('login-state', { state, codeVerifier: 'v'.repeat(43), nonce: 'n', redirectUri: REDIRECT_URI }, -1);
        const name = `cognito-login.${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
        const response = await get(`${testApp.url}/auth/callback?code=whatever&state=${state}`, [`${name}=${sealed}`]);
        assert.equal(response.location, '/login-error?error=login_expired');
      });

      it('opens a login cookie sealed under a previous secret (rotation), and only that one', async () => {
        const rotated = await startApp(platform, options({ cookieSecret: [COOKIE_SECRET, OTHER_SECRET] }));
        try {
          const { authorizeUrl, cookie } = await startLogin(otherApp);
          const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
          assert.equal((await get(`${rotated.url}${redirect.pathname}${redirect.search}`, [cookie])).location, '/welcome');
        } finally {
          await rotated.close();
        }
      });
    });

    describe('session cookies', () => {
      it('spans several cookies here (the test needs chunks), and all of them are read', async () => {
        const cookies = await session(testApp);
        assert.ok(cookies.length >= 2, `${cookies.length} chunk(s)`);
        const state = await me(cookies);
        assert.equal(state.status, 'active');
        assert.equal(state.email, 'alice@example.com', 'the ID token, in the last chunk, was read');
      });

      for (const [part, index] of JWE_PARTS) {
        it(`drops a session whose ${part} was altered`, async () => {
          const cookies = await session(testApp);
          const joined = cookies.map((pair) => splitPair(pair)[1]).join('');
          const altered = tamper(joined, index);
          // Re-split the altered value exactly where the chunks were.
          let offset = 0;
          const resealed = cookies.map((pair) => {
            const [name, value] = splitPair(pair);
            const chunk = altered.slice(offset, offset + value.length);
            offset += value.length;
            return `${name}=${chunk}`;
          });
          assert.deepEqual(await me(resealed), { status: 'none' });
        });
      }

      it('drops the ID token, with a warning, when the session would not fit in three cookies with it', async () => {
        const { authorizeUrl, cookie } = await startLogin(testApp);
        const redirect = await cognito.signIn(authorizeUrl.toString(), CAROL);
        // Nest's logger is the one of the app started last: read what every test app logged.
        const logged = witness.lines.length;
        const finished = await get(`${testApp.url}${redirect.pathname}${redirect.search}`, [cookie]);
        assert.equal(finished.location, '/welcome');
        const cookies = cookiePairs(finished.setCookies).filter((pair) => pair.startsWith('cognito-session.'));
        assert.ok(cookies.length >= 2 && cookies.length <= 3, `${cookies.length} chunks`);
        for (const pair of cookies) assert.ok(pair.length < 4000);
        assert.match(witness.lines.slice(logged).join('\n'), /The session is too large for its cookies with the ID token; storing it without/);
        const state = await me(cookies);
        assert.equal(state.status, 'active');
        assert.equal(state.username, 'carol');
        assert.equal(state.email, undefined, 'no ID token in the session');
      });

      it('drops a session sealed under another secret', async () => {
        assert.deepEqual(await me(await session(otherApp)), { status: 'none' });
      });

      it('drops a session with a chunk missing, and one made of chunks from two sessions', async () => {
        const first = await session(testApp);
        const second = await session(testApp);
        assert.deepEqual(await me(first.filter((pair) => !pair.startsWith('cognito-session.1='))), { status: 'none' });
        assert.deepEqual(await me([first[0], ...second.slice(1)]), { status: 'none' });
        assert.equal((await me(second)).status, 'active', 'the control: the second session alone is fine');
      });

      it('drops a session whose seal has expired', async () => {
        const cookies = await session(testApp);
        const state = await me(cookies);
        assert.equal(state.status, 'active');
        const sealer = testApp.app.get(CookieSealer);
        const opened = (await sealer.open('session', cookies.map((pair) => splitPair(pair)[1]).join(''))) as Record<string, unknown>;
        const expired = await sealer.seal('session', opened, -1);
        assert.deepEqual(await me([`cognito-session.0=${expired}`]), { status: 'none' });
      });
    });
  });
}

describe('secrets in logs (sealed cookies)', () => {
  it('logged no code, token, cookie value or secret during this file', () => {
    witness.assertNoSecretLogged();
  });
});
