import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Req, Res, type INestApplication } from '@nestjs/common';
import { CognitoClaims, CognitoSessionService, Public, RequireGroups, TokenUse, type CognitoModuleOptions, type CognitoRequestAuth } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, loginThroughApp, PLATFORMS, type Platform } from './support/app.js';
import { startGuardedApp } from './support/guarded-app.js';
import { COOKIE_SECRET } from './support/module.js';
import { startServer, type ScriptedServer } from './support/servers.js';

/**
 * What the README promises about where the guard finds a token and how requirements combine,
 * each pinned by a request over HTTP: `tokenSources` (order, dropping one), `request.cognito.source`,
 * public routes ignoring requirements, a method's requirement replacing its controller's,
 * `@TokenUse('id')` from the cookie, and a 503 (not a silent sign-out) when a session cannot be refreshed.
 */
const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com', groups: ['staff'] };
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

@RequireGroups('admin')
@Controller('rules')
class RulesController {
  @Get('who')
  @Public()
  who(@Req() request: { cognito?: CognitoRequestAuth }) {
    return { sub: request.cognito?.claims.sub ?? null, source: request.cognito?.source ?? null, tokenUse: request.cognito?.tokenUse ?? null };
  }

  /** Inherits the controller's admin requirement. */
  @Get('admin')
  admin() {
    return { ok: true };
  }

  /** Replaces the controller's requirement: staff is enough, admin alone is not. */
  @RequireGroups('staff')
  @Get('staff')
  staff() {
    return { ok: true };
  }

  /** Public wins over every requirement. */
  @Public()
  @RequireGroups('nobody-has-this')
  @Get('public')
  open(@CognitoClaims('sub') sub?: string) {
    return { sub: sub ?? null };
  }

  @TokenUse('id')
  @RequireGroups('staff')
  @Get('id')
  id(@CognitoClaims('email') email: string, @CognitoClaims('token_use') tokenUse: string) {
    return { email, tokenUse };
  }
}

/** A page that shows who is signed in, as server-rendered apps have: public, and reading the session itself. */
@Controller('page')
class PageController {
  constructor(private readonly session: CognitoSessionService) {}
  @Public()
  @Get()
  async page(@Req() request: unknown, @Res({ passthrough: true }) response: unknown) {
    const state = await this.session.resume(request, response);
    return { status: state.status };
  }
}

const startApp = (platform: Platform, options: CognitoModuleOptions) => startGuardedApp(platform, options, [RulesController, PageController]);

async function call(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers: { ...SAME_ORIGIN, ...headers }, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), setCookies: response.headers.getSetCookie(), body: text ? JSON.parse(text) : undefined };
}

for (const platform of PLATFORMS) {
  describe(`where the guard finds a token, and how requirements combine (${platform})`, () => {
    let cognito: LocalCognito;
    const apps: INestApplication[] = [];
    const options = (overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions => ({
      ...cognito.moduleOptions('webapp'),
      redirectUri: REDIRECT_URI,
      cookieSecret: COOKIE_SECRET,
      ...overrides,
    });
    async function start(overrides: Partial<CognitoModuleOptions> = {}) {
      const started = await startApp(platform, options(overrides));
      apps.push(started.app);
      return started.url;
    }
    /** A real login through `url`; the session cookies a browser keeps. */
    async function login(url: string): Promise<string> {
      return loginThroughApp(cognito, url, ALICE);
    }

    let bearer: string;
    before(async () => {
      cognito = await LocalCognito.start({ users: [ALICE], clients: [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] }] });
      bearer = `Bearer ${await cognito.mintAccessToken({ sub: 'sub-bob', username: 'bob', groups: ['staff'] })}`;
    });
    after(async () => {
      for (const app of apps) await app.close();
      await cognito?.stop();
    });

    it('reads the header first by default, and says where the token came from (request.cognito.source)', async () => {
      const url = await start();
      const cookie = await login(url);
      assert.deepEqual((await call(`${url}/rules/who`, { authorization: bearer, cookie })).body, { sub: 'sub-bob', source: 'header', tokenUse: 'access' });
      const fromCookie = (await call(`${url}/rules/who`, { cookie })).body;
      assert.equal(fromCookie.source, 'cookie');
      assert.notEqual(fromCookie.sub, 'sub-bob');
    });

    it("reads the cookie first with tokenSources ['cookie', 'header']", async () => {
      const url = await start({ tokenSources: ['cookie', 'header'] });
      const cookie = await login(url);
      const both = (await call(`${url}/rules/who`, { authorization: bearer, cookie })).body;
      assert.equal(both.source, 'cookie');
      assert.notEqual(both.sub, 'sub-bob');
      assert.deepEqual((await call(`${url}/rules/who`, { authorization: bearer })).body.source, 'header');
      // Even a bearer token answered from the cache of verified tokens (seen three times now)
      // does not jump ahead of the cookie.
      for (let i = 0; i < 2; i++) await call(`${url}/rules/who`, { authorization: bearer });
      assert.equal((await call(`${url}/rules/who`, { authorization: bearer, cookie })).body.source, 'cookie');
    });

    it("ignores the header with tokenSources ['cookie'], and the cookie with ['header']", async () => {
      const cookieOnly = await start({ tokenSources: ['cookie'] });
      assert.equal((await call(`${cookieOnly}/rules/staff`, { authorization: bearer })).status, 401);
      assert.equal((await call(`${cookieOnly}/rules/staff`, { cookie: await login(cookieOnly) })).status, 200);

      const headerOnly = await start({ tokenSources: ['header'] });
      assert.equal((await call(`${headerOnly}/rules/staff`, { cookie: await login(headerOnly) })).status, 401);
      assert.equal((await call(`${headerOnly}/rules/staff`, { authorization: bearer })).status, 200);
    });

    it("lets a method's requirement replace its controller's", async () => {
      const url = await start();
      const adminOnly = `Bearer ${await cognito.mintAccessToken({ groups: ['admin'] })}`;
      assert.equal((await call(`${url}/rules/admin`, { authorization: bearer })).status, 403, 'the controller asks for admin');
      assert.equal((await call(`${url}/rules/admin`, { authorization: adminOnly })).status, 200);
      assert.equal((await call(`${url}/rules/staff`, { authorization: bearer })).status, 200, 'the method asks for staff instead');
      assert.equal((await call(`${url}/rules/staff`, { authorization: adminOnly })).status, 403);
    });

    it('opens a public route whatever the requirements, with claims only for a valid token', async () => {
      const url = await start();
      assert.deepEqual((await call(`${url}/rules/public`)).body, { sub: null });
      assert.deepEqual((await call(`${url}/rules/public`, { authorization: bearer })).body, { sub: 'sub-bob' });
      assert.deepEqual((await call(`${url}/rules/public`, { authorization: 'Bearer not.a.token' })).body, { sub: null });
    });

    it('clears replayed, unusable session cookies once per response, though the guard and the page both read the session', async () => {
      const url = await start();
      const session = await login(url);
      const valid = await call(`${url}/page`, { cookie: session });
      assert.deepEqual(valid.body, { status: 'active' });
      assert.deepEqual(valid.setCookies, [], 'a valid session is read twice and re-issued never');
      // Cookies sealed under another secret (an old deployment), and one that is garbage.
      const other = await start({ cookieSecret: 'Zq3xV9pL2mN8rT5wK1yB7cH4jF6gD0sA-other-secret' });
      const foreign = await login(other);
      for (const cookie of [foreign, 'cognito-session.0=garbage']) {
        const replayed = await call(`${url}/page`, { cookie });
        assert.deepEqual(replayed.body, { status: 'none' });
        const names = replayed.setCookies.map((line) => line.slice(0, line.indexOf('=')));
        assert.ok(names.length > 0, 'the unusable cookies are cleared');
        assert.deepEqual(names, [...new Set(names)], `each cookie is cleared once: ${names.join(', ')}`);
      }
    });

    it("answers an ID-token route from the cookie only with sessionIncludeIdToken (no fallback to the access token's claims)", async () => {
      const without = await start();
      const refused = await call(`${without}/rules/id`, { cookie: await login(without) });
      assert.equal(refused.status, 401);
      assert.match(refused.body.message, /sessionIncludeIdToken/);

      const withIdToken = await start({ sessionIncludeIdToken: true });
      assert.deepEqual((await call(`${withIdToken}/rules/id`, { cookie: await login(withIdToken) })).body, { email: 'alice@example.com', tokenUse: 'id' });
    });

    describe('when Cognito cannot refresh the session', () => {
      let tokenProxy: ScriptedServer;
      let up = true;
      let shortLived: LocalCognito;
      before(async () => {
        shortLived = await LocalCognito.start({ users: [ALICE], clients: [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] }], tokenLifetimeSeconds: 3 });
        // The token endpoint behind a switch: a real Cognito answer, or a dropped connection.
        tokenProxy = await startServer(async (req, res) => {
          if (!up) return void res.destroy();
          const answer = await fetch(shortLived.tokenUrl, { method: 'POST', headers: { 'content-type': String(req.headers['content-type']), authorization: String(req.headers.authorization) }, body: req.body });
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
        });
      });
      after(async () => {
        await tokenProxy?.close();
        await shortLived?.stop();
      });

      it('answers 503 with Retry-After once the access token has expired, and uses it while it still lives', async () => {
        up = true;
        const { app, url } = await startApp(platform, {
          ...shortLived.moduleOptions('webapp'),
          tokenUrl: `${tokenProxy.url}/oauth2/token`,
          redirectUri: REDIRECT_URI,
          cookieSecret: COOKIE_SECRET,
          clockToleranceSeconds: 0,
          sessionRefreshMarginSeconds: 3,
          httpTimeoutMs: 1000,
        });
        apps.push(app);
        const started = await fetch(`${url}/auth/login`, { redirect: 'manual' });
        const redirect = await shortLived.signIn(started.headers.get('location')!, ALICE);
        const finished = await fetch(`${url}${redirect.pathname}${redirect.search}`, { redirect: 'manual', headers: { cookie: cookiePairs(started.headers.getSetCookie()).join('; ') } });
        const cookie = cookiePairs(finished.headers.getSetCookie()).join('; ');
        up = false;
        // Within the refresh margin but not expired: the refresh fails, the current token serves.
        assert.equal((await call(`${url}/rules/staff`, { cookie })).status, 200);
        await sleep(3200);
        const expired = await call(`${url}/rules/staff`, { cookie });
        assert.equal(expired.status, 503, JSON.stringify(expired.body));
        assert.equal(expired.retryAfter, '5');
        assert.ok(!expired.setCookies.some((line) => /Max-Age=0/.test(line)), 'the session is kept for when Cognito is back');
        up = true;
        assert.equal((await call(`${url}/rules/staff`, { cookie })).status, 200, 'and it refreshes once Cognito answers again');
      });
    });
  });
}
