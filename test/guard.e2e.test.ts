import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  CognitoAuthGuard,
  CognitoClaims,
  CognitoModule,
  CognitoSessionService,
  Public,
  RequireGroups,
  RequireScopes,
  TokenUse,
  type CognitoCallbackContext,
  type CognitoCallbackHandler,
  type CognitoLoginResult,
  type CognitoModuleOptions,
} from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, PLATFORMS, type Platform } from './support/app.js';
import { COOKIE_SECRET } from './support/module.js';
import { closedPort } from './support/servers.js';

const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const CLIENT = 'webapp';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com', groups: ['staff'] };

@Controller('api')
class ApiController {
  @Get('profile')
  profile(@CognitoClaims() claims: Record<string, unknown>, @CognitoClaims('username') username: string) {
    return { sub: claims.sub, username, tokenUse: claims.token_use };
  }

  @Public()
  @Get('public')
  open(@CognitoClaims('username') username?: string) {
    return { username: username ?? null };
  }

  @RequireGroups('admin', 'staff')
  @Get('any-group')
  anyGroup() {
    return { ok: true };
  }

  @RequireGroups(['admin', 'staff'], { match: 'all' })
  @Get('all-groups')
  allGroups() {
    return { ok: true };
  }

  @RequireScopes('orders/read', 'orders/write')
  @Get('any-scope')
  anyScope() {
    return { ok: true };
  }

  @RequireScopes(['orders/read', 'orders/write'], { match: 'all' })
  @Get('all-scopes')
  allScopes() {
    return { ok: true };
  }

  /** A route that tries to grant its caller a group, as an attacker-controlled handler would. */
  @Get('mutate')
  mutate(@CognitoClaims() claims: Record<string, any>) {
    const attempts = [
      () => claims['cognito:groups'].push('admin'),
      () => (claims['cognito:groups'][0] = 'admin'),
      () => (claims['cognito:groups'] = ['admin', 'staff']),
      () => Object.defineProperty(claims, 'scope', { value: 'orders/read orders/write' }),
    ];
    return { refused: attempts.map((attempt) => { try { attempt(); return false; } catch { return true; } }) };
  }

  @TokenUse('id')
  @Get('id')
  idRoute(@CognitoClaims('email') email: string) {
    return { email };
  }
}

@Public()
@Controller('open')
class OpenController {
  @Get()
  open() {
    return { open: true };
  }
}

/** Without a global guard: one route guarded explicitly. */
@Controller('local')
class LocalController {
  @UseGuards(CognitoAuthGuard)
  @Get('guarded')
  guarded(@CognitoClaims('sub') sub: string) {
    return { sub };
  }

  @Get('unguarded')
  unguarded() {
    return { open: true };
  }
}

@Injectable()
class SessionHandler implements CognitoCallbackHandler {
  constructor(private readonly session: CognitoSessionService) {}
  async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext) {
    await this.session.establish(ctx.response, result.tokens);
  }
}

async function startGuardedApp(platform: Platform, options: CognitoModuleOptions, { global = true } = {}): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [CognitoModule.forRoot({ ...options, callbackHandler: SessionHandler })],
    controllers: global ? [ApiController, OpenController] : [LocalController],
    providers: global ? [{ provide: APP_GUARD, useExisting: CognitoAuthGuard }] : [],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1') };
}

async function call(url: string, { token, cookies = [] }: { token?: string; cookies?: string[] } = {}) {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = token.includes(' ') ? token : `Bearer ${token}`;
  if (cookies.length) headers.cookie = cookies.join('; ');
  const response = await fetch(url, { headers, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, challenge: response.headers.get('www-authenticate'), retryAfter: response.headers.get('retry-after'), body: text ? JSON.parse(text) : undefined };
}

for (const platform of PLATFORMS) {
  describe(`CognitoAuthGuard (${platform})`, () => {
    let cognito: LocalCognito;
    let app: INestApplication;
    let url: string;
    const options = (): CognitoModuleOptions => ({ ...cognito.moduleOptions(CLIENT), redirectUri: REDIRECT_URI, cookieSecret: COOKIE_SECRET, sessionIncludeIdToken: true });

    before(async () => {
      cognito = await LocalCognito.start({ users: [ALICE], clients: [{ clientId: CLIENT, clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] }] });
      ({ app, url } = await startGuardedApp(platform, options()));
    });
    after(async () => {
      await app?.close();
      await cognito?.stop();
    });

    it('lets a valid access token through and hands its claims to @CognitoClaims()', async () => {
      const response = await call(`${url}/api/profile`, { token: await cognito.mintAccessToken({ username: 'bob', sub: 'sub-bob' }) });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { sub: 'sub-bob', username: 'bob', tokenUse: 'access' });
    });

    it('answers 401 with a bare Bearer challenge, without an error code, when no token is sent (RFC 6750 §3.1)', async () => {
      for (const path of ['/api/profile', '/api/id', '/api/any-group']) {
        const response = await call(`${url}${path}`);
        assert.equal(response.status, 401);
        assert.equal(response.challenge, 'Bearer');
        assert.equal(response.body.message, 'No bearer token or session');
      }
    });

    it('treats another Authorization scheme as no credentials: a bare challenge (RFC 6750 §3.1)', async () => {
      for (const header of ['Basic YWxpY2U6cHc=', 'Digest username="alice"', 'Bearerx abc']) {
        const response = await call(`${url}/api/profile`, { token: header });
        assert.equal(response.status, 401, header);
        assert.equal(response.challenge, 'Bearer', header);
      }
    });

    const unauthorized: { name: string; token: () => Promise<string | undefined> | string | undefined; description: string | (() => string); path?: string }[] = [
      { name: 'an expired token', token: () => cognito.mintAccessToken({ expiresInSeconds: -120 }), description: 'The token has expired' },
      { name: 'a token for another app client', token: () => cognito.mintAccessToken({ clientId: 'other-client' }), description: "The token's 'client_id' claim is not this app client" },
      { name: 'a token from another user pool', token: () => cognito.mintAccessToken({ issuer: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other' }), description: () => `The token's 'iss' claim does not match the user pool (expected '${cognito.issuer}', received 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other')` },
      {
        name: 'a token whose issuer holds quotes, a line break and an emoji (shown, shortened, never echoed raw)',
        token: () => cognito.mintAccessToken({ issuer: `https://evil.example/"pool"\\\n\u{1F600}${'x'.repeat(300)}` }),
        description: () => `The token's 'iss' claim does not match the user pool (expected '${cognito.issuer}', received 'https://evil.example/?pool?????${'x'.repeat(200 - 'https://evil.example/?pool?????'.length)}...')` // quote, backslash, line break, and the emoji's two UTF-16 units,
      },
      { name: 'a token without an issuer', token: () => cognito.mintAccessToken({ claims: { iss: undefined } }), description: () => `The token's 'iss' claim does not match the user pool (expected '${cognito.issuer}', received none)` },
      { name: 'an ID token on an access-token route', token: () => cognito.mintIdToken(), description: "The token's 'token_use' claim is not 'access'" },
      { name: 'an access token on an ID-token route', path: '/api/id', token: () => cognito.mintAccessToken(), description: "The token's 'token_use' claim is not 'id'" },
      { name: 'a Bearer scheme without a token', token: () => 'Bearer ', description: "The Authorization header is not 'Bearer <token>'" },
      { name: 'a Bearer scheme with two tokens', token: () => 'Bearer a.b.c d.e.f', description: "The Authorization header is not 'Bearer <token>'" },
      { name: 'garbage', token: () => 'not-a-jwt', description: 'Malformed token: a JWT has three dot-separated parts' },
    ];
    for (const { name, token, description: expected, path = '/api/profile' } of unauthorized) {
      it(`answers 401 with an invalid_token challenge for ${name}`, async () => {
        const description = typeof expected === 'function' ? expected() : expected;
        const value = await token();
        const response = await call(`${url}${path}`, { token: value });
        assert.equal(response.status, 401);
        assert.equal(response.challenge, `Bearer error="invalid_token", error_description="${description}"`);
        assert.equal(response.body.message, description);
        if (value && !value.startsWith('Bearer')) assert.ok(!JSON.stringify(response.body).includes(value) && !response.challenge!.includes(value));
      });
    }

    it('keeps one request from changing the claims that later requests with the same token see', async () => {
      const token = await cognito.mintAccessToken({ groups: ['staff'], scopes: ['openid'] });
      for (let round = 0; round < 4; round++) {
        const mutated = await call(`${url}/api/mutate`, { token });
        // The first sighting's claims are that request's own; from then on they are shared, and frozen.
        if (round > 0) assert.deepEqual(mutated.body, { refused: [true, true, true, true] }, `round ${round}`);
        assert.equal((await call(`${url}/api/all-groups`, { token })).status, 403, `round ${round}`);
        assert.equal((await call(`${url}/api/any-scope`, { token })).status, 403, `round ${round}`);
      }
    });

    it('answers a repeated bearer token (then verified before) alike, whatever the case of the scheme', async () => {
      const token = await cognito.mintAccessToken({ username: 'dave', sub: 'sub-dave' });
      for (const scheme of ['Bearer', 'Bearer', 'Bearer', 'bearer', 'BEARER', 'bEaReR']) {
        const response = await call(`${url}/api/profile`, { token: `${scheme} ${token}` });
        assert.deepEqual([scheme, response.status, response.body], [scheme, 200, { sub: 'sub-dave', username: 'dave', tokenUse: 'access' }]);
      }
      // RFC 6750 §2.1: "Bearer" 1*SP b64token.
      const doubled = await call(`${url}/api/profile`, { token: `Bearer  ${token}` });
      assert.deepEqual([doubled.status, doubled.body.username], [200, 'dave']);
    });

    it('checks the claims of a repeated token on every use', async () => {
      const idToken = await cognito.mintIdToken({ claims: { email: 'eve@example.com' } });
      for (let use = 0; use < 3; use++) assert.equal((await call(`${url}/api/id`, { token: idToken })).status, 200);
      const response = await call(`${url}/api/profile`, { token: idToken });
      assert.deepEqual([response.status, response.body.message], [401, "The token's 'token_use' claim is not 'access'"]);
    });

    it('accepts an ID token on an ID-token route', async () => {
      const response = await call(`${url}/api/id`, { token: await cognito.mintIdToken({ claims: { email: 'id@example.com' } }) });
      assert.deepEqual([response.status, response.body], [200, { email: 'id@example.com' }]);
    });

    const groupMatrix: [string[] | undefined, number, number][] = [
      // token groups, any-of (admin|staff), all-of (admin&staff)
      [undefined, 403, 403],
      [['other'], 403, 403],
      [['staff'], 200, 403],
      [['admin'], 200, 403],
      [['admin', 'staff'], 200, 200],
    ];
    for (const [groups, anyStatus, allStatus] of groupMatrix) {
      it(`checks groups ${JSON.stringify(groups ?? 'absent')}: any-of ${anyStatus}, all-of ${allStatus}`, async () => {
        const token = await cognito.mintAccessToken({ groups });
        const any = await call(`${url}/api/any-group`, { token });
        const all = await call(`${url}/api/all-groups`, { token });
        assert.deepEqual([any.status, all.status], [anyStatus, allStatus]);
        if (anyStatus === 403) {
          assert.equal(any.challenge, null);
          assert.equal(any.body.message, 'Not a member of a required Cognito group');
        }
      });
    }

    const scopeMatrix: [string[], number, number][] = [
      [['openid'], 403, 403],
      [['orders/read'], 200, 403],
      [['orders/write', 'openid'], 200, 403],
      [['orders/read', 'orders/write'], 200, 200],
    ];
    for (const [scopes, anyStatus, allStatus] of scopeMatrix) {
      it(`checks scopes ${JSON.stringify(scopes)}: any-of ${anyStatus}, all-of ${allStatus}`, async () => {
        const token = await cognito.mintAccessToken({ scopes });
        const any = await call(`${url}/api/any-scope`, { token });
        const all = await call(`${url}/api/all-scopes`, { token });
        assert.deepEqual([any.status, all.status], [anyStatus, allStatus]);
        if (allStatus === 403) {
          assert.equal(all.challenge, 'Bearer error="insufficient_scope", error_description="The token lacks a required scope", scope="orders/read orders/write"');
        }
      });
    }

    it('refuses scopes on an access token without a scope claim', async () => {
      const response = await call(`${url}/api/any-scope`, { token: await cognito.mintAccessToken({ claims: { scope: undefined } }) });
      assert.equal(response.status, 403);
    });

    it('@Public: absent, invalid and valid tokens all pass; only a valid one yields claims', async () => {
      assert.deepEqual((await call(`${url}/api/public`)).body, { username: null });
      const invalid = await call(`${url}/api/public`, { token: await cognito.mintAccessToken({ expiresInSeconds: -120 }) });
      assert.deepEqual([invalid.status, invalid.body, invalid.challenge], [200, { username: null }, null]);
      assert.deepEqual((await call(`${url}/api/public`, { token: await cognito.mintAccessToken({ username: 'carol' }) })).body, { username: 'carol' });
      assert.deepEqual((await call(`${url}/open`)).body, { open: true });
    });

    describe('with a session cookie', () => {
      let session: string[];
      before(async () => {
        const started = await fetch(`${url}/auth/login`, { redirect: 'manual' });
        const redirect = await cognito.signIn(started.headers.get('location')!, ALICE);
        const finished = await fetch(`${url}${redirect.pathname}${redirect.search}`, { redirect: 'manual', headers: { cookie: cookiePairs(started.headers.getSetCookie()).join('; ') } });
        session = cookiePairs(finished.headers.getSetCookie());
        assert.ok(session.some((pair) => pair.startsWith('cognito-session.0=')));
      });

      it('authenticates from the session cookie, for access- and ID-token routes', async () => {
        assert.equal((await call(`${url}/api/profile`, { cookies: session })).body.username, 'alice');
        assert.equal((await call(`${url}/api/id`, { cookies: session })).body.email, 'alice@example.com');
        assert.equal((await call(`${url}/api/any-group`, { cookies: session })).status, 200);
        assert.equal((await call(`${url}/api/all-groups`, { cookies: session })).status, 403);
      });

      it('prefers the Authorization header over the cookie', async () => {
        const response = await call(`${url}/api/profile`, { token: await cognito.mintAccessToken({ username: 'bob' }), cookies: session });
        assert.equal(response.body.username, 'bob');
      });

      it('uses the session cookie behind another Authorization scheme (HTTP Basic in front of a staging site)', async () => {
        const response = await call(`${url}/api/profile`, { token: 'Basic c3RhZ2luZzpwYXNz', cookies: session });
        assert.equal(response.status, 200);
        assert.equal(response.body.username, 'alice');
      });

      it('does not fall back to the cookie when the header is invalid', async () => {
        const response = await call(`${url}/api/profile`, { token: 'broken.token.here', cookies: session });
        assert.equal(response.status, 401);
      });
    });

    it('answers 503 with Retry-After, not 401, when the JWKS cannot be loaded', async () => {
      const broken = await startGuardedApp(platform, { ...options(), jwksUri: `http://127.0.0.1:${await closedPort()}/jwks.json` });
      try {
        const response = await call(`${broken.url}/api/profile`, { token: await cognito.mintAccessToken() });
        assert.equal(response.status, 503);
        assert.equal(response.retryAfter, '5');
        assert.equal(response.challenge, null);
      } finally {
        await broken.app.close();
      }
    });

    it('guards a single route with @UseGuards when no global guard is set', async () => {
      const local = await startGuardedApp(platform, options(), { global: false });
      try {
        assert.equal((await call(`${local.url}/local/unguarded`)).status, 200);
        assert.equal((await call(`${local.url}/local/guarded`)).status, 401);
        const token = await cognito.mintAccessToken({ sub: 'sub-dave' });
        assert.deepEqual((await call(`${local.url}/local/guarded`, { token })).body, { sub: 'sub-dave' });
      } finally {
        await local.app.close();
      }
    });
  });
}

describe('CognitoAuthGuard outside HTTP', () => {
  let cognito: LocalCognito;
  before(async () => {
    cognito = await LocalCognito.start({ users: [], clients: [{ clientId: CLIENT, redirectUris: [REDIRECT_URI] }] });
  });
  after(() => cognito.stop());

  // WebSocket gateways are tested with real ones, in realtime.e2e.test.ts.
  for (const type of ['rpc', 'something-else']) {
    it(`denies a ${type} context, and passes it only on a @Public handler`, async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [CognitoModule.forRoot({ ...cognito.moduleOptions(CLIENT), redirectUri: REDIRECT_URI, cookieSecret: COOKIE_SECRET, callbackHandler: SessionHandler })],
      }).compile();
      const guard = moduleRef.get(CognitoAuthGuard);
      const token = await cognito.mintAccessToken();
      const context = (handler: (...args: any[]) => unknown) => {
        const host = new ExecutionContextHost([{ headers: { authorization: `Bearer ${token}` } }, {}], ApiController, handler);
        host.setType(type);
        return host;
      };
      assert.equal(await guard.canActivate(context(ApiController.prototype.profile)), false);
      assert.equal(await guard.canActivate(context(ApiController.prototype.open)), true);
    });
  }
});

describe('testing an app with the guard', () => {
  it('can replace the guard with overrideGuard (per route) and overrideProvider (global)', async () => {
    const cognito = await LocalCognito.start({ users: [], clients: [{ clientId: CLIENT, redirectUris: [REDIRECT_URI] }] });
    try {
      const options = { ...cognito.moduleOptions(CLIENT), redirectUri: REDIRECT_URI, cookieSecret: COOKIE_SECRET, callbackHandler: SessionHandler };
      const local = await Test.createTestingModule({ imports: [CognitoModule.forRoot(options)], controllers: [LocalController] })
        .overrideGuard(CognitoAuthGuard)
        .useValue({ canActivate: () => true })
        .compile();
      const localApp = local.createNestApplication({ logger: false });
      await localApp.listen(0, '127.0.0.1');
      const global = await Test.createTestingModule({
        imports: [CognitoModule.forRoot(options)],
        controllers: [ApiController],
        providers: [{ provide: APP_GUARD, useExisting: CognitoAuthGuard }],
      })
        .overrideProvider(CognitoAuthGuard)
        .useValue({ canActivate: () => true })
        .compile();
      const globalApp = global.createNestApplication({ logger: false });
      await globalApp.listen(0, '127.0.0.1');
      try {
        const base = (app: INestApplication) => app.getUrl().then((value) => value.replace('[::1]', '127.0.0.1'));
        assert.equal((await call(`${await base(localApp)}/local/guarded`)).status, 200);
        assert.equal((await call(`${await base(globalApp)}/api/any-group`)).status, 200);
      } finally {
        await localApp.close();
        await globalApp.close();
      }
    } finally {
      await cognito.stop();
    }
  });

  it('refuses an empty group or scope list at startup', () => {
    assert.throws(() => RequireGroups(), /@RequireGroups\(\) needs at least one non-empty name/);
    assert.throws(() => RequireScopes([]), /@RequireScopes\(\) needs at least one non-empty name/);
    assert.throws(() => RequireGroups(['a'], { match: 'most' as any }), /"match" must be "any" or "all"/);
    // An empty or non-string name in the list is refused too, alone or among good ones.
    for (const names of [[''], ['admin', ''], ['admin', 42 as any]]) {
      assert.throws(() => RequireGroups(...names), /@RequireGroups\(\) needs at least one non-empty name/, JSON.stringify(names));
      assert.throws(() => RequireScopes(names), /@RequireScopes\(\) needs at least one non-empty name/, JSON.stringify(names));
    }
    assert.throws(() => TokenUse('refresh' as any), /@TokenUse\(\) takes "id" or "access"/);
  });
});
