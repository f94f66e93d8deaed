import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { All, Controller, Delete, Get, Patch, Post, Put, type INestApplication } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { CognitoClaims, Public, type CognitoModuleOptions } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, PLATFORMS, type Platform } from './support/app.js';
import { startGuardedApp } from './support/guarded-app.js';
import { COOKIE_SECRET } from './support/module.js';

/**
 * CSRF protection for the session cookie: an unsafe request that rides on the cookie must come
 * from the app's own pages (Sec-Fetch-Site, else Origin, else Referer) or a trusted origin;
 * bearer tokens are not affected; a cross-site GET of the logout route does not sign out.
 */
const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const APP_ORIGIN = 'http://127.0.0.1:3000';
const TRUSTED = 'https://admin.example.com';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };

@Controller('api')
class ActionsController {
  @Get('thing')
  read(@CognitoClaims('sub') sub: string) {
    return { sub };
  }
  @Post('thing')
  create(@CognitoClaims('sub') sub: string) {
    return { sub };
  }
  @Put('thing')
  replace(@CognitoClaims('sub') sub: string) {
    return { sub };
  }
  @Patch('thing')
  change(@CognitoClaims('sub') sub: string) {
    return { sub };
  }
  @Delete('thing')
  remove(@CognitoClaims('sub') sub: string) {
    return { sub };
  }
  @All('any')
  any(@CognitoClaims('sub') sub: string) {
    return { sub };
  }
  @Public()
  @Post('public')
  open(@CognitoClaims('sub') sub?: string) {
    return { sub: sub ?? null };
  }
}

const startCsrfApp = (platform: Platform, options: CognitoModuleOptions) => startGuardedApp(platform, options, [ActionsController]);

async function send(url: string, method: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method, headers, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, location: response.headers.get('location'), headers: response.headers, setCookies: response.headers.getSetCookie(), text };
}

/** Who sent the request, as the browser describes it. */
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };
const CROSS_SITE = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };

const refused: [string, Record<string, string>][] = [
  ['no Sec-Fetch-Site, Origin or Referer at all', {}],
  ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
  ['Sec-Fetch-Site: same-site (a sibling subdomain is another origin)', { 'sec-fetch-site': 'same-site' }],
  ['Sec-Fetch-Site: cross-site with a foreign Origin', CROSS_SITE],
  ['a foreign Origin', { origin: 'https://evil.example' }],
  ['Origin: null (a sandboxed frame, a data: URL)', { origin: 'null' }],
  ["an Origin that only starts like the app's", { origin: `${APP_ORIGIN}.evil.example` }],
  ["the app's host on another port", { origin: 'http://127.0.0.1:3001' }],
  ["the app's host over another scheme", { origin: 'https://127.0.0.1:3000' }],
  ['a foreign Origin with a same-origin Referer (Origin decides)', { origin: 'https://evil.example', referer: `${APP_ORIGIN}/page` }],
  ['a foreign Referer', { referer: 'https://evil.example/page' }],
  ["a foreign Referer that names the app in its path", { referer: `https://evil.example/${APP_ORIGIN}/` }],
  ['a Referer that is not a URL', { referer: 'not a url' }],
  ['Sec-Fetch-Site: same-site with a foreign Referer', { 'sec-fetch-site': 'same-site', referer: 'https://sub.127.0.0.1/' }],
];
const accepted: [string, Record<string, string>][] = [
  ['Sec-Fetch-Site: same-origin', SAME_ORIGIN],
  ['Sec-Fetch-Site: none (typed in, a bookmark)', { 'sec-fetch-site': 'none' }],
  ["the app's own Origin", { origin: APP_ORIGIN }],
  ['a trusted Origin', { origin: TRUSTED }],
  ['Sec-Fetch-Site: same-site from a trusted Origin', { 'sec-fetch-site': 'same-site', origin: TRUSTED }],
  ["a Referer on the app's origin", { referer: `${APP_ORIGIN}/orders?page=2` }],
];

for (const platform of PLATFORMS) {
  describe(`CSRF protection for the session cookie (${platform})`, () => {
    let cognito: LocalCognito;
    let app: INestApplication;
    let url: string;
    const options = (overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions => ({
      ...cognito.moduleOptions('webapp'),
      redirectUri: REDIRECT_URI,
      cookieSecret: COOKIE_SECRET,
      trustedOrigins: [TRUSTED],
      ...overrides,
    });

    /** A real login; returns the session cookies a browser would keep. */
    async function login(baseUrl = url): Promise<Record<string, string>> {
      const started = await send(`${baseUrl}/auth/login`, 'GET');
      const redirect = await cognito.signIn(started.location!, ALICE);
      const finished = await send(`${baseUrl}${redirect.pathname}${redirect.search}`, 'GET', { cookie: cookiePairs(started.setCookies).join('; ') });
      assert.equal(finished.status, 302);
      return { cookie: cookiePairs(finished.setCookies).join('; ') };
    }

    let session: Record<string, string>;
    before(async () => {
      cognito = await LocalCognito.start({ users: [ALICE], clients: [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] }] });
      ({ app, url } = await startCsrfApp(platform, options()));
      session = await login();
    });
    after(async () => {
      await app?.close();
      await cognito?.stop();
    });

    for (const [who, headers] of refused) {
      it(`refuses a cookie-authenticated POST with ${who}: 403 with the reason`, async () => {
        const response = await send(`${url}/api/thing`, 'POST', { ...session, ...headers });
        assert.equal(response.status, 403, response.text);
        assert.match(JSON.parse(response.text).message, /^Cross-site request refused: .+; the session cookie only works for requests from this app's own pages/);
      });
    }
    for (const [who, headers] of accepted) {
      it(`accepts a cookie-authenticated POST with ${who}`, async () => {
        const response = await send(`${url}/api/thing`, 'POST', { ...session, ...headers });
        assert.equal(response.status, 201, response.text);
        assert.ok(JSON.parse(response.text).sub);
      });
    }

    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      it(`applies the same rule to ${method}`, async () => {
        assert.equal((await send(`${url}/api/thing`, method, { ...session, ...CROSS_SITE })).status, 403);
        assert.equal((await send(`${url}/api/thing`, method, { ...session, 'sec-fetch-site': 'same-site' })).status, 403);
        assert.equal((await send(`${url}/api/thing`, method, { ...session, ...SAME_ORIGIN })).status, 200);
      });
    }

    it('applies the rule to every method but GET, HEAD and OPTIONS (TRACE, PROPFIND, … included)', async () => {
      // fetch() refuses TRACE, so a raw request.
      const raw = (method: string, headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(`${url}/api/any`, { method, headers }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      for (const method of ['TRACE', 'PROPFIND', 'LOCK']) {
        assert.equal(await raw(method, { ...session, ...CROSS_SITE }), 403, method);
      }
      assert.equal(await raw('TRACE', { ...session, ...SAME_ORIGIN }), 200);
    });

    it('leaves safe methods alone: a cross-site GET with the cookie is answered', async () => {
      const response = await send(`${url}/api/thing`, 'GET', { ...session, ...CROSS_SITE });
      assert.equal(response.status, 200);
    });

    it('does not refresh or touch the session of a refused request', async () => {
      const response = await send(`${url}/api/thing`, 'POST', { ...session, ...CROSS_SITE });
      assert.equal(response.status, 403);
      assert.deepEqual(response.setCookies, []);
    });

    it('leaves bearer tokens alone: they carry no ambient credential', async () => {
      const token = await cognito.mintAccessToken({ sub: 'sub-bearer' });
      for (const headers of [CROSS_SITE, {}, { origin: 'null' }] as Record<string, string>[]) {
        const response = await send(`${url}/api/thing`, 'POST', { authorization: `Bearer ${token}`, ...headers });
        assert.equal(response.status, 201, response.text);
        assert.equal(JSON.parse(response.text).sub, 'sub-bearer');
      }
    });

    it('answers a cross-site POST to a public route as for a visitor: no claims from the cookie', async () => {
      assert.deepEqual(JSON.parse((await send(`${url}/api/public`, 'POST', { ...session, ...CROSS_SITE })).text), { sub: null });
      assert.notEqual(JSON.parse((await send(`${url}/api/public`, 'POST', { ...session, ...SAME_ORIGIN })).text).sub, null);
    });

    it('answers 401, not 403, to a cross-site POST without any session cookie', async () => {
      const response = await send(`${url}/api/thing`, 'POST', CROSS_SITE);
      assert.equal(response.status, 401);
    });

    describe('logout', () => {
      const stillSignedIn = async (cookies: Record<string, string>) => (await send(`${url}/api/thing`, 'GET', cookies)).status === 200;

      it('refuses a cross-site POST /auth/logout with 403, and the session goes on', async () => {
        const cookies = await login();
        for (const headers of [CROSS_SITE, { 'sec-fetch-site': 'same-site' }, {}] as Record<string, string>[]) {
          const response = await send(`${url}/auth/logout`, 'POST', { ...cookies, ...headers });
          assert.equal(response.status, 403);
          assert.match(JSON.parse(response.text).message, /^Cross-site request refused/);
          assert.deepEqual(response.setCookies, []);
        }
        assert.ok(await stillSignedIn(cookies));
      });

      for (const [who, headers] of [
        ['a cross-site link', { 'sec-fetch-site': 'cross-site' }],
        ['a sibling subdomain', { 'sec-fetch-site': 'same-site' }],
        ['a request that says nothing of its origin', {}],
        ['a foreign Referer', { referer: 'https://evil.example/' }],
      ] as [string, Record<string, string>][]) {
        it(`answers a GET /auth/logout from ${who} with a confirmation page, without signing out`, async () => {
          const cookies = await login();
          const response = await send(`${url}/auth/logout`, 'GET', { ...cookies, ...headers });
          assert.equal(response.status, 200);
          assert.match(response.headers.get('content-type')!, /^text\/html/);
          assert.match(response.text, /<form method="post"><button type="submit">Sign out<\/button><\/form>/);
          assert.match(response.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
          assert.equal(response.headers.get('x-frame-options'), 'DENY');
          assert.equal(response.headers.get('cache-control'), 'no-store');
          assert.deepEqual(response.setCookies, []);
          assert.ok(await stillSignedIn(cookies));
        });
      }

      for (const [who, method, headers] of [
        ['a same-origin link', 'GET', SAME_ORIGIN],
        ['a typed-in URL', 'GET', { 'sec-fetch-site': 'none' }],
        ["a link with the app's Referer", 'GET', { referer: `${APP_ORIGIN}/account` }],
        ["the confirmation page's button", 'POST', { 'sec-fetch-site': 'same-origin', origin: APP_ORIGIN }],
        ['a trusted origin', 'POST', { origin: TRUSTED }],
      ] as [string, string, Record<string, string>][]) {
        it(`signs out on a ${method} from ${who}`, async () => {
          const cookies = await login();
          const response = await send(`${url}/auth/logout`, method, { ...cookies, ...headers });
          assert.equal(response.status, 302);
          assert.equal(response.setCookies.filter((line) => /^cognito-session\.\d=; .*Max-Age=0/.test(line)).length, 3);
        });
      }
    });

    describe('with csrfProtection: false', () => {
      let open: { app: INestApplication; url: string };
      before(async () => {
        open = await startCsrfApp(platform, options({ csrfProtection: false }));
      });
      after(() => open.app.close());

      it('accepts a cookie-authenticated POST from anywhere (the app checks CSRF tokens itself)', async () => {
        const cookies = await login(open.url);
        assert.equal((await send(`${open.url}/api/thing`, 'POST', { ...cookies, ...CROSS_SITE })).status, 201);
        const logout = await send(`${open.url}/auth/logout`, 'GET', { ...cookies, ...CROSS_SITE });
        assert.equal(logout.status, 302);
      });
    });
  });
}

describe('trustedOrigins from the environment', () => {
  it('reads COGNITO_TRUSTED_ORIGINS as a comma-separated list and COGNITO_CSRF_PROTECTION as a boolean', async () => {
    const { cognitoOptionsFromEnv } = await import('../lib/index.js');
    const { resolveCognitoConfig } = await import('../lib/config/resolve-cognito-config.js');
    const config = resolveCognitoConfig(
      cognitoOptionsFromEnv({
        COGNITO_USER_POOL_ID: 'eu-west-2_TestPool1',
        COGNITO_CLIENT_ID: 'webapp',
        COGNITO_HOST: 'example.auth.eu-west-2.amazoncognito.com',
        COGNITO_REDIRECT_URL: 'https://app.example.com/auth/callback',
        COGNITO_COOKIE_SECRET: COOKIE_SECRET,
        COGNITO_TRUSTED_ORIGINS: 'https://admin.example.com, https://shop.example.com:8443',
        COGNITO_CSRF_PROTECTION: 'false',
      }),
    );
    assert.deepEqual(config.trustedOrigins, ['https://admin.example.com', 'https://shop.example.com:8443']);
    assert.equal(config.csrfProtection, false);
    assert.equal(config.appOrigin, 'https://app.example.com');
  });
});
