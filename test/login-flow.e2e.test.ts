import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuthorizationResponseError, CallbackHandlerError, type CognitoModuleOptions } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, get, PLATFORMS, startApp, witness, type TestApp } from './support/app.js';
import { COOKIE_SECRET } from './support/module.js';
import { closedPort } from './support/servers.js';

/** The app's public URL as registered at Cognito; tests replay Cognito's redirect onto the real port. */
const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com', groups: ['admin', 'staff'] };

for (const platform of PLATFORMS) {
  describe(`login flow end to end (${platform})`, () => {
    let cognito: LocalCognito;
    let testApp: TestApp;

    const options = (overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions => ({
      ...cognito.moduleOptions('webapp'),
      redirectUri: REDIRECT_URI,
      cookieSecret: COOKIE_SECRET,
      successRedirect: '/welcome',
      errorRedirect: '/login-error',
      ...overrides,
    });

    /** GET /auth/login: returns the authorize URL and the login cookie. */
    async function startLogin(app: TestApp, query = '') {
      const response = await get(`${app.url}/auth/login${query}`);
      assert.equal(response.status, 302);
      return { authorizeUrl: new URL(response.location!), cookies: cookiePairs(response.setCookies), response };
    }

    /** Replays Cognito's redirect onto the app and returns the app's answer. */
    async function callback(app: TestApp, cognitoRedirect: URL, cookies: string[]) {
      return get(`${app.url}${cognitoRedirect.pathname}${cognitoRedirect.search}`, cookies);
    }

    async function fullLogin(app: TestApp, query = '') {
      const { authorizeUrl, cookies } = await startLogin(app, query);
      const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
      return { redirect, cookies, response: await callback(app, redirect, cookies) };
    }

    before(async () => {
      cognito = await LocalCognito.start({
        users: [ALICE],
        clients: [
          { clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] },
          { clientId: 'publicapp', redirectUris: [REDIRECT_URI] },
        ],
      });
      testApp = await startApp(platform, options());
    });
    after(async () => {
      await testApp?.close();
      await cognito?.stop();
    });
    beforeEach(() => {
      testApp.recorder.successes = [];
      testApp.recorder.errors = [];
      testApp.recorder.behaviour = {};
    });

    it('redirects /auth/login to Cognito with state, PKCE S256, nonce and the configured scopes', async () => {
      const { authorizeUrl, response } = await startLogin(testApp);
      assert.equal(authorizeUrl.origin + authorizeUrl.pathname, cognito.authorizeUrl);
      const params = authorizeUrl.searchParams;
      assert.equal(params.get('response_type'), 'code');
      assert.equal(params.get('client_id'), 'webapp');
      assert.equal(params.get('redirect_uri'), REDIRECT_URI);
      assert.equal(params.get('scope'), 'openid email profile');
      assert.equal(params.get('code_challenge_method'), 'S256');
      assert.match(params.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(params.get('state')!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(params.get('nonce')!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(response.setCookies.join('\n'), /^cognito-login\.[\w-]{16}=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/m);
    });

    it('completes a login: the handler gets verified claims, then the browser goes to successRedirect', async () => {
      const { response } = await fullLogin(testApp);
      assert.equal(response.status, 302);
      assert.equal(response.location, '/welcome');
      assert.equal(testApp.recorder.successes.length, 1);
      const [result] = testApp.recorder.successes;
      assert.equal(result.idToken.token_use, 'id');
      assert.equal(result.idToken['cognito:username'], 'alice');
      assert.deepEqual(result.idToken['cognito:groups'], ['admin', 'staff']);
      assert.equal(result.idToken.email, 'alice@example.com');
      assert.equal(result.idToken.aud, 'webapp');
      assert.equal(result.accessToken.token_use, 'access');
      assert.equal(result.accessToken.client_id, 'webapp');
      assert.equal(result.accessToken.sub, result.idToken.sub);
      assert.equal(result.tokens.tokenType, 'Bearer');
      assert.ok(result.tokens.refreshToken);
      assert.ok(response.setCookies.some((line) => /^cognito-login\.[\w-]+=; .*Max-Age=0/.test(line)), 'the login cookie is cleared');
    });

    it('redirects to a same-site returnTo given at login', async () => {
      const { response } = await fullLogin(testApp, `?returnTo=${encodeURIComponent('/orders?page=2')}`);
      assert.equal(response.location, '/orders?page=2');
      assert.equal(testApp.recorder.successes[0].returnTo, '/orders?page=2');
    });

    for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      it(`ignores an off-site returnTo (${evil})`, async () => {
        const { response } = await fullLogin(testApp, `?returnTo=${encodeURIComponent(evil)}`);
        assert.equal(response.location, '/welcome');
      });
    }

    it("follows the handler's redirectTo", async () => {
      testApp.recorder.behaviour.onSuccess = () => ({ redirectTo: '/dashboard' });
      const { response } = await fullLogin(testApp, '?returnTo=/ignored');
      assert.equal(response.location, '/dashboard');
    });

    it('keeps concurrent logins from two tabs apart', async () => {
      const first = await startLogin(testApp);
      const second = await startLogin(testApp);
      const cookies = [...first.cookies, ...second.cookies];
      assert.equal(new Set(cookies.map((pair) => pair.split('=')[0])).size, 2);
      const redirect = await cognito.signIn(first.authorizeUrl.toString(), ALICE);
      const response = await callback(testApp, redirect, cookies);
      assert.equal(response.location, '/welcome');
    });

    it('forwards identity_provider, idp_identifier, lang, login_hint and prompt', async () => {
      const { authorizeUrl } = await startLogin(testApp, '?identity_provider=Google&idp_identifier=example.com&lang=fr&login_hint=alice%40example.com&prompt=login');
      const params = authorizeUrl.searchParams;
      assert.equal(params.get('identity_provider'), 'Google');
      assert.equal(params.get('idp_identifier'), 'example.com');
      assert.equal(params.get('lang'), 'fr');
      assert.equal(params.get('login_hint'), 'alice@example.com');
      assert.equal(params.get('prompt'), 'login');
    });

    it('answers 400 (not a redirect, not a 500) to an invalid pass-through parameter', async () => {
      const response = await get(`${testApp.url}/auth/login?prompt=bogus`);
      assert.equal(response.status, 400);
      assert.match(response.body, /prompt/);
      assert.deepEqual(cookiePairs(response.setCookies), []);
    });

    // ---- failures: each ends in a redirect to the error page with its reason --------------

    it('reports a cancelled sign-in (error=access_denied) to onError and the error page', async () => {
      const { authorizeUrl, cookies } = await startLogin(testApp);
      const redirect = await cognito.signIn(authorizeUrl.toString(), 'cancel');
      assert.equal(redirect.searchParams.get('error'), 'access_denied');
      const response = await callback(testApp, redirect, cookies);
      assert.equal(response.status, 302);
      assert.equal(response.location, '/login-error?error=access_denied');
      assert.equal(testApp.recorder.errors.length, 1);
      assert.ok(testApp.recorder.errors[0] instanceof AuthorizationResponseError);
      assert.equal(testApp.recorder.successes.length, 0);
    });

    for (const [sent, reason] of [
      ['login_required', 'login_required'],
      ['invalid_scope', 'invalid_scope'],
      ['server_error', 'server_error'],
      ['made_up_error', 'unknown_error'],
      ['<script>alert(1)</script>', 'unknown_error'],
    ]) {
      it(`maps Cognito's error=${sent} to the reason ${reason}`, async () => {
        const { authorizeUrl, cookies } = await startLogin(testApp);
        const state = authorizeUrl.searchParams.get('state')!;
        const response = await get(`${testApp.url}/auth/callback?error=${encodeURIComponent(sent)}&error_description=${encodeURIComponent('<b>x</b>')}&state=${state}`, cookies);
        assert.equal(response.location, `/login-error?error=${reason}`);
        const [error] = testApp.recorder.errors as AuthorizationResponseError[];
        assert.ok(error instanceof AuthorizationResponseError);
        assert.equal(error.oauthError, reason);
      });
    }

    it("uses onError's redirectTo", async () => {
      testApp.recorder.behaviour.onError = () => ({ redirectTo: '/sorry' });
      const response = await get(`${testApp.url}/auth/callback?code=x&state=y`);
      assert.equal(response.location, '/sorry');
    });

    it('rejects a callback without a login cookie', async () => {
      const { authorizeUrl } = await startLogin(testApp);
      const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
      const response = await callback(testApp, redirect, []);
      assert.equal(response.location, '/login-error?error=login_cookie_missing');
      assert.equal(testApp.recorder.successes.length, 0);
    });

    it('rejects an altered state', async () => {
      const { authorizeUrl, cookies } = await startLogin(testApp);
      const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
      redirect.searchParams.set('state', `${redirect.searchParams.get('state')}x`);
      const response = await callback(testApp, redirect, cookies);
      assert.equal(response.location, '/login-error?error=state_mismatch');
    });

    it('rejects a missing state', async () => {
      const { authorizeUrl, cookies } = await startLogin(testApp);
      const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
      redirect.searchParams.delete('state');
      const response = await callback(testApp, redirect, cookies);
      assert.equal(response.location, '/login-error?error=missing_state');
    });

    it('rejects a login cookie that was tampered with', async () => {
      const { authorizeUrl, cookies } = await startLogin(testApp);
      const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
      const tampered = cookies.map((pair) => pair.replace(/=(.)/, (_m, c: string) => `=${c === 'a' ? 'b' : 'a'}`));
      const response = await callback(testApp, redirect, tampered);
      assert.equal(response.location, '/login-error?error=login_cookie_invalid');
    });

    it('rejects a replayed callback (state used once, code used once)', async () => {
      const { redirect, cookies, response } = await fullLogin(testApp);
      assert.equal(response.location, '/welcome');
      // A browser no longer has the cookie: the state is unknown.
      assert.equal((await callback(testApp, redirect, [])).location, '/login-error?error=login_cookie_missing');
      // An attacker who kept the cookie still cannot redeem the code twice.
      assert.equal((await callback(testApp, redirect, cookies)).location, '/login-error?error=invalid_grant');
      assert.equal(testApp.recorder.successes.length, 1);
    });

    it('rejects a code issued for another PKCE challenge (code injection)', async () => {
      const { authorizeUrl, cookies } = await startLogin(testApp);
      authorizeUrl.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
      const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
      const response = await callback(testApp, redirect, cookies);
      assert.equal(response.location, '/login-error?error=invalid_grant');
    });

    it('rejects an ID token whose nonce differs from the login', async () => {
      const { authorizeUrl, cookies } = await startLogin(testApp);
      authorizeUrl.searchParams.set('nonce', 'attacker-nonce');
      const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
      const response = await callback(testApp, redirect, cookies);
      assert.equal(response.location, '/login-error?error=nonce_mismatch');
      assert.equal(testApp.recorder.successes.length, 0);
    });

    it('turns a throwing handler into handler_failed, and tells onError', async () => {
      testApp.recorder.behaviour.onSuccess = () => {
        throw new Error('database down');
      };
      const { response } = await fullLogin(testApp);
      assert.equal(response.status, 302);
      assert.equal(response.location, '/login-error?error=handler_failed');
      assert.ok(testApp.recorder.errors[0] instanceof CallbackHandlerError);
    });

    it('lets the handler answer the request itself', async () => {
      testApp.recorder.behaviour.onSuccess = (_result, ctx) => {
        const res = ctx.response as any;
        if (typeof res.code === 'function') res.code(200).header('content-type', 'text/plain').send('custom page');
        else res.status(200).type('text/plain').send('custom page');
      };
      const { response } = await fullLogin(testApp);
      assert.equal(response.status, 200);
      assert.equal(response.body, 'custom page');
    });

    const junk = [
      '',
      '?code=abc',
      '?state=abc',
      '?code=abc&state=abc',
      '?code=abc&code=def&state=s&state=t',
      '?state[a]=1&code[b]=2',
      '?error=access_denied',
      '?error=%3Cscript%3E&state=x',
      `?code=${'a'.repeat(5000)}&state=${'b'.repeat(5000)}`,
      '?code=%00%ff&state=%E2%80%AE',
    ];
    for (const query of junk) {
      it(`answers a junk callback (${query.slice(0, 40) || 'no query'}) with a redirect to the error page`, async () => {
        const response = await get(`${testApp.url}/auth/callback${query}`, ['cognito-login.AAAAAAAAAAAAAAAA=garbage']);
        assert.equal(response.status, 302);
        assert.match(response.location!, /^\/login-error\?error=[a-z_]+$/);
      });
    }

    it('never logs the code, the tokens, the client secret or the cookie', async () => {
      testApp.logger.lines = [];
      const { redirect, cookies } = await fullLogin(testApp);
      await callback(testApp, redirect, cookies); // replay: logs a failure
      const [result] = testApp.recorder.successes;
      const log = testApp.logger.lines.join('\n');
      assert.match(log, /invalid_grant/);
      for (const secret of [redirect.searchParams.get('code')!, 'webapp-secret-value', result.tokens.idToken, result.tokens.accessToken, result.tokens.refreshToken!, cookies[0].split('=')[1]]) {
        assert.ok(!log.includes(secret), 'a secret value reached the log');
      }
    });

    describe('with a misconfigured or failing upstream', () => {
      const upstreamFaults: [string, () => Promise<Partial<CognitoModuleOptions>>, string][] = [
        ['a wrong client secret', async () => ({ clientSecret: 'wrong-secret' }), 'invalid_client'],
        ['an unreachable JWKS', async () => ({ jwksUri: `http://127.0.0.1:${await closedPort()}/jwks.json` }), 'jwks_unavailable'],
        ['an unreachable token endpoint', async () => ({ tokenUrl: `http://127.0.0.1:${await closedPort()}/oauth2/token` }), 'cognito_unavailable'],
      ];
      for (const [fault, overrides, reason] of upstreamFaults) {
        it(`reports ${fault} as ${reason}`, async () => {
          const app = await startApp(platform, options(await overrides()));
          try {
            const { response } = await fullLogin(app);
            assert.equal(response.location, `/login-error?error=${reason}`);
          } finally {
            await app.close();
          }
        });
      }

      it('logs in with a public client (no secret, client_id in the body)', async () => {
        const app = await startApp(platform, { ...options(), ...cognito.moduleOptions('publicapp') });
        try {
          const { response } = await fullLogin(app);
          assert.equal(response.location, '/welcome');
          assert.equal(app.recorder.successes[0].idToken.aud, 'publicapp');
        } finally {
          await app.close();
        }
      });

      it('keeps a started login for loginTimeoutSeconds (the login cookie says so)', async () => {
        const app = await startApp(platform, options({ loginTimeoutSeconds: 45 }));
        try {
          const response = await get(`${app.url}/auth/login`);
          assert.match(response.setCookies.join('\n'), /^cognito-login\.[\w-]{16}=[^;]+; .*Max-Age=45(;|$)/m);
        } finally {
          await app.close();
        }
      });

      it('uses Secure __Host- cookies when the app is served over https', async () => {
        const app = await startApp(platform, options({ redirectUri: 'https://app.example.com/auth/callback' }));
        try {
          const response = await get(`${app.url}/auth/login`);
          assert.match(response.setCookies.join('\n'), /^__Host-cognito-login\.[\w-]{16}=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600; Secure$/m);
        } finally {
          await app.close();
        }
      });
    });
  });
}

describe('secrets in logs', () => {
  it('logged no code, token, cookie value or secret during this file', () => {
    witness.assertNoSecretLogged();
  });
});
