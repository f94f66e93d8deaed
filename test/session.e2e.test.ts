import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { TokenExchangeService, type CognitoModuleOptions } from '../lib/index.js';
import { HostedUiBrowser, LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, get, PLATFORMS, SAME_ORIGIN, startApp, witness, type AppResponse, type TestApp } from './support/app.js';
import { COOKIE_SECRET } from './support/module.js';

const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const HTTPS_REDIRECT_URI = 'https://app.example.com/auth/callback';
const LOGOUT_URI = 'http://127.0.0.1:3000/signed-out';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };
const OTHER_SECRET = 'PQ8LGEv9sOoxbqmnzIv4PXeIxq-GYkyVV2wgeiR7PU0';
/** Tokens live 60 s; with a 57 s margin a session needs refreshing 3 s after login. */
const LIFETIME = 60;
const MARGIN = 57;

/** A browser's cookie jar for one app origin: applies Set-Cookie, including removals. */
class Jar {
  private readonly cookies = new Map<string, string>();
  apply(response: AppResponse): this {
    for (const line of response.setCookies) {
      const [pair] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(name.length + 1));
    }
    return this;
  }
  get header(): string[] {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`);
  }
  names(): string[] {
    return [...this.cookies.keys()];
  }
}

for (const platform of PLATFORMS) {
  describe(`session lifecycle (${platform})`, () => {
    let cognito: LocalCognito;
    let appA: TestApp;
    let appB: TestApp;

    const options = (overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions => ({
      ...cognito.moduleOptions('webapp'),
      redirectUri: REDIRECT_URI,
      logoutUri: LOGOUT_URI,
      cookieSecret: COOKIE_SECRET,
      successRedirect: '/welcome',
      errorRedirect: '/login-error',
      sessionRefreshMarginSeconds: MARGIN,
      sessionIncludeIdToken: true,
      ...overrides,
    });

    async function start(overrides: Partial<CognitoModuleOptions> = {}) {
      const app = await startApp(platform, options(overrides));
      app.recorder.establishSession = true;
      return app;
    }

    /** Logs in: starts on `first`, finishes on `second` (another instance, same secret). */
    async function login(first: TestApp, second = first, browser = new HostedUiBrowser()) {
      const jar = new Jar();
      const started = await get(`${first.url}/auth/login`);
      jar.apply(started);
      const redirect = await browser.signIn(started.location!, ALICE);
      const finished = await get(`${second.url}${redirect.pathname}${redirect.search}`, jar.header);
      assert.equal(finished.location, '/welcome');
      jar.apply(finished);
      return { jar, finished, browser };
    }

    const tokenRequests = () => cognito.requestCounts.get('/oauth2/token') ?? 0;
    const me = async (app: TestApp, jar: Jar) => {
      const response = await get(`${app.url}/me`, jar.header);
      assert.equal(response.status, 200, response.body);
      jar.apply(response);
      return { ...response, json: JSON.parse(response.body) };
    };

    before(async () => {
      cognito = await LocalCognito.start({
        users: [ALICE],
        clients: [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI, HTTPS_REDIRECT_URI], logoutUris: [LOGOUT_URI] }],
        tokenLifetimeSeconds: LIFETIME,
      });
      appA = await start();
      appB = await start();
    });
    after(async () => {
      await appA?.close();
      await appB?.close();
      await cognito?.stop();
    });

    it('stores the session in HttpOnly, SameSite=Lax, Path=/ cookies on login', async () => {
      const { finished } = await login(appA);
      const session = finished.setCookies.filter((line) => line.startsWith('cognito-session.') && !/Max-Age=0/.test(line));
      assert.ok(session.length >= 1 && session.length <= 3, session.join('\n'));
      for (const line of session) assert.match(line, /^cognito-session\.\d=[\w.-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=2592000$/);
    });

    it('uses Secure __Host- cookies when the app runs on https', async () => {
      const app = await start({ redirectUri: HTTPS_REDIRECT_URI });
      try {
        const started = await get(`${app.url}/auth/login`);
        assert.match(started.setCookies.join('\n'), /^__Host-cognito-login\.[\w-]{16}=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600; Secure$/m);
        // Cognito redirects to the https callback; replay it onto this (plain http) test server.
        const redirect = await new HostedUiBrowser().signIn(started.location!, ALICE);
        assert.equal(redirect.origin, 'https://app.example.com');
        const finished = await get(`${app.url}${redirect.pathname}${redirect.search}`, cookiePairs(started.setCookies));
        assert.equal(finished.location, '/welcome');
        const session = finished.setCookies.filter((line) => !/Max-Age=0/.test(line));
        assert.ok(session.length >= 1);
        for (const line of session) assert.match(line, /^__Host-cognito-session\.\d=[\w.-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=2592000; Secure$/);
      } finally {
        await app.close();
      }
    });

    it('serves the session, then refreshes it once when the access token nears expiry, re-issuing cookies', async () => {
      const { jar } = await login(appA);
      const fresh = await me(appA, jar);
      assert.deepEqual({ status: fresh.json.status, refreshed: fresh.json.refreshed, username: fresh.json.username, email: fresh.json.email }, {
        status: 'active',
        refreshed: false,
        username: 'alice',
        email: 'alice@example.com',
      });
      const before = tokenRequests();
      const cookiesBefore = jar.header.join();
      await sleep((LIFETIME - MARGIN + 0.5) * 1000);
      const refreshed = await me(appA, jar);
      assert.equal(refreshed.json.status, 'active');
      assert.equal(refreshed.json.refreshed, true);
      assert.equal(tokenRequests() - before, 1);
      assert.notEqual(jar.header.join(), cookiesBefore, 'the cookies were re-issued');
      const after = await me(appA, jar);
      assert.equal(after.json.refreshed, false, 'the re-issued cookies carry the new token');
      assert.equal(tokenRequests() - before, 1);
    });

    it('makes exactly one refresh call for 50 concurrent requests with one expired session', async () => {
      const { jar } = await login(appA);
      await sleep((LIFETIME - MARGIN + 0.5) * 1000);
      const before = tokenRequests();
      const responses = await Promise.all(Array.from({ length: 50 }, () => get(`${appA.url}/me`, jar.header)));
      assert.ok(responses.every((response) => response.status === 200 && JSON.parse(response.body).status === 'active'));
      assert.equal(tokenRequests() - before, 1);
    });

    it('finishes on instance B a login started on instance A, and serves B’s session on A', async () => {
      const { jar } = await login(appA, appB);
      assert.equal((await me(appA, jar)).json.status, 'active');
      assert.equal((await me(appB, jar)).json.status, 'active');
    });

    it('reads cookies sealed with a rotated-out secret while it stays in the list', async () => {
      const { jar } = await login(appA);
      const rotated = await start({ cookieSecret: [OTHER_SECRET, COOKIE_SECRET] });
      const replaced = await start({ cookieSecret: OTHER_SECRET });
      try {
        assert.equal((await me(rotated, jar)).json.status, 'active');
        const dropped = await get(`${replaced.url}/me`, jar.header);
        assert.equal(JSON.parse(dropped.body).status, 'none');
      } finally {
        await rotated.close();
        await replaced.close();
      }
    });

    const broken: [string, (value: string) => string][] = [
      ['tampered', (value) => value.slice(0, 40) + (value[40] === 'A' ? 'B' : 'A') + value.slice(41)],
      ['truncated', (value) => value.slice(0, value.length - 30)],
      ['foreign', () => 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl'],
      ['empty', () => ''],
    ];
    for (const [name, mutate] of broken) {
      it(`treats a ${name} session cookie as no session, without echoing it`, async () => {
        const { jar } = await login(appA);
        const cookies = jar.header.map((pair) => (pair.startsWith('cognito-session.0=') ? `cognito-session.0=${mutate(pair.slice(18))}` : pair));
        const response = await get(`${appA.url}/me`, cookies);
        assert.equal(response.status, 200);
        assert.deepEqual(JSON.parse(response.body), { status: 'none' });
        const value = cookies.find((pair) => pair.startsWith('cognito-session.0='))!.slice(18);
        if (value) assert.ok(!response.body.includes(value) && !response.setCookies.join().includes(value));
      });
    }

    it('reports login_required and clears the cookies when the refresh token was revoked', async () => {
      const { jar } = await login(appA);
      const refreshToken = appA.recorder.successes.at(-1)!.tokens.refreshToken!;
      await appA.app.get(TokenExchangeService).revoke(refreshToken);
      await sleep((LIFETIME - MARGIN + 0.5) * 1000);
      const response = await me(appA, jar);
      assert.deepEqual(response.json, { status: 'login_required' });
      assert.deepEqual(jar.names().filter((name) => name.startsWith('cognito-session.')), []);
    });

    it('logs out: revokes the refresh token, clears the cookies, and ends the Hosted UI session', async () => {
      const { jar, browser } = await login(appA);
      const refreshToken = appA.recorder.successes.at(-1)!.tokens.refreshToken!;
      const revocations = cognito.requestCounts.get('/oauth2/revoke') ?? 0;

      const response = await get(`${appA.url}/auth/logout`, jar.header, SAME_ORIGIN);
      assert.equal(response.status, 302);
      const location = new URL(response.location!);
      assert.equal(`${location.origin}${location.pathname}`, `${cognito.url}/logout`);
      assert.deepEqual(Object.fromEntries(location.searchParams), { client_id: 'webapp', logout_uri: LOGOUT_URI });
      assert.equal((cognito.requestCounts.get('/oauth2/revoke') ?? 0) - revocations, 1);
      jar.apply(response);
      assert.deepEqual(jar.names().filter((name) => name.startsWith('cognito-session.')), []);
      assert.deepEqual((await me(appA, jar)).json, { status: 'none' });

      await assert.rejects(appA.app.get(TokenExchangeService).refresh(refreshToken), { code: 'ERR_TOKEN_ENDPOINT_ERROR', oauthError: 'invalid_grant' });

      // Following Cognito's /logout ends the Hosted UI session: the next sign-in asks for the password again.
      const logouts = cognito.logouts;
      const ended = await fetch(location, { redirect: 'manual', headers: { cookie: '' } });
      assert.equal(ended.status, 302);
      assert.equal(ended.headers.get('location'), LOGOUT_URI);
      assert.equal(cognito.logouts - logouts, 1);
    });

    it('accepts POST for logout', async () => {
      const { jar } = await login(appA);
      const response = await get(`${appA.url}/auth/logout`, jar.header, { origin: new URL(REDIRECT_URI).origin }, 'POST');
      assert.equal(response.status, 302);
      assert.match(response.location!, /\/logout\?client_id=webapp&logout_uri=/);
    });

    it('still clears the cookies and redirects when the revocation endpoint is down', async () => {
      const doomed = await LocalCognito.start({
        users: [ALICE],
        clients: [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI], logoutUris: [LOGOUT_URI] }],
      });
      const app = await startApp(platform, { ...options(), ...doomed.moduleOptions('webapp'), httpTimeoutMs: 1000 });
      app.recorder.establishSession = true;
      try {
        const jar = new Jar();
        const started = await get(`${app.url}/auth/login`);
        jar.apply(started);
        const redirect = await doomed.signIn(started.location!, ALICE);
        jar.apply(await get(`${app.url}${redirect.pathname}${redirect.search}`, jar.header));
        await doomed.stop();
        app.logger.lines = [];
        const response = await get(`${app.url}/auth/logout`, jar.header, SAME_ORIGIN);
        assert.equal(response.status, 302);
        assert.match(response.location!, /\/logout\?client_id=webapp/);
        assert.equal(response.setCookies.filter((line) => line.startsWith('cognito-session.') && /Max-Age=0/.test(line)).length, 3);
        assert.match(app.logger.lines.join('\n'), /Revoking the refresh token failed \(ERR_TOKEN_ENDPOINT_UNREACHABLE\)/);
      } finally {
        await app.close();
      }
    });

    it('names its cookies with cookieNamePrefix, so two modules keep their sessions apart', async () => {
      const staff = await start({ cookieNamePrefix: 'staff' });
      try {
        const { jar, finished } = await login(staff);
        assert.ok(finished.setCookies.some((line) => line.startsWith('staff-login.')), 'the login cookie is cleared under its own name');
        assert.ok(jar.names().includes('staff-session.0'));
        assert.ok(!jar.names().some((name) => name.startsWith('cognito-')));
        assert.equal((await me(staff, jar)).json.status, 'active');
        assert.deepEqual(JSON.parse((await get(`${appA.url}/me`, jar.header)).body), { status: 'none' }, 'the default-named module sees no session');
      } finally {
        await staff.close();
      }
    });

    for (const [overrides, destination] of [
      [{ logoutUri: undefined }, '/'],
      // An app with a global prefix has no page at /.
      [{ logoutUri: undefined, postLogoutRedirect: '/api/signed-out' }, '/api/signed-out'],
    ] as [Partial<CognitoModuleOptions>, string][]) {
      it(`signs the user out locally, redirecting to ${destination}, when no logoutUri is configured`, async () => {
        const app = await start(overrides);
        try {
          const { jar } = await login(app);
          const response = await get(`${app.url}/auth/logout`, jar.header, SAME_ORIGIN);
          assert.equal(response.location, destination);
        } finally {
          await app.close();
        }
      });
    }
  });
}

describe('session with refresh-token rotation', () => {
  it('stores the rotated refresh token, and 50 concurrent requests still spend the old one once', async () => {
    const cognito = await LocalCognito.start({
      users: [ALICE],
      clients: [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] }],
      tokenLifetimeSeconds: LIFETIME,
      rotateRefreshTokens: true,
    });
    const app = await startApp('express', {
      ...cognito.moduleOptions('webapp'),
      redirectUri: REDIRECT_URI,
      cookieSecret: COOKIE_SECRET,
      sessionRefreshMarginSeconds: MARGIN,
    });
    app.recorder.establishSession = true;
    try {
      const jar = new Jar();
      const started = await get(`${app.url}/auth/login`);
      jar.apply(started);
      const redirect = await cognito.signIn(started.location!, ALICE);
      jar.apply(await get(`${app.url}${redirect.pathname}${redirect.search}`, jar.header));
      const firstRefreshToken = app.recorder.successes[0].tokens.refreshToken!;

      await sleep((LIFETIME - MARGIN + 0.5) * 1000);
      const before = cognito.requestCounts.get('/oauth2/token') ?? 0;
      const responses = await Promise.all(Array.from({ length: 50 }, () => get(`${app.url}/me`, jar.header)));
      assert.ok(responses.every((response) => JSON.parse(response.body).status === 'active'));
      assert.equal((cognito.requestCounts.get('/oauth2/token') ?? 0) - before, 1);
      jar.apply(responses[0]);

      // The rotated refresh token in the cookies keeps the session going...
      await sleep((LIFETIME - MARGIN + 0.5) * 1000);
      const later = await get(`${app.url}/me`, jar.header);
      assert.equal(JSON.parse(later.body).status, 'active');
      assert.equal(JSON.parse(later.body).refreshed, true);
      // ...while the first one was spent. (oidc-provider then revokes the whole grant on reuse,
      // which is stricter than Cognito's grace period, so this check comes last.)
      await assert.rejects(app.app.get(TokenExchangeService).refresh(firstRefreshToken), { oauthError: 'invalid_grant' });
    } finally {
      await app.close();
      await cognito.stop();
    }
  });
});

describe('secrets in logs', () => {
  it('logged no code, token, cookie value or secret during this file', () => {
    witness.assertNoSecretLogged();
  });
});
