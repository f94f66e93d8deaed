import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, RequestMethod, VersioningType } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { CognitoConfigurationError, CognitoModule, type CognitoModuleOptions } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, get, PLATFORMS, startApp, witness, type AppSetup, type TestApp } from './support/app.js';
import { COOKIE_SECRET } from './support/module.js';

/**
 * Where the module's routes answer in apps shaped the way apps are: a global prefix (with and
 * without `exclude`), URI versioning, a RouterModule path. The callback answers at the path of
 * `redirectUri`, whatever the app does; login and logout follow the app's prefix.
 */
const ORIGIN = 'http://127.0.0.1:3000';
const ALICE = { username: 'alice', password: 'correct horse battery' };

@Controller('things')
class ThingsController {
  @Get()
  list() {
    return ['a thing'];
  }
}

@Controller('auth')
class ClashingController {
  @Get('callback')
  mine() {
    return 'the app’s own route';
  }
}

interface Case {
  name: string;
  redirectPath: string;
  setup: AppSetup;
  options?: Partial<CognitoModuleOptions>;
  /** Where the routes really answer. */
  login: string;
  callback: string;
  logout: string;
  /** A route of the app, to show the app's own shape holds. */
  appRoute: string;
  /** Paths where nothing of the module answers (the old, wrong mappings). */
  notFound: string[];
}

const cases: Case[] = [
  {
    name: 'global prefix, included in redirectUri',
    redirectPath: '/api/auth/callback',
    setup: { configure: (app) => app.setGlobalPrefix('api'), controllers: [ThingsController] },
    login: '/api/auth/login',
    callback: '/api/auth/callback',
    logout: '/api/auth/logout',
    appRoute: '/api/things',
    notFound: ['/api/api/auth/callback', '/auth/callback', '/auth/login'],
  },
  {
    name: 'global prefix, not in redirectUri',
    redirectPath: '/auth/callback',
    setup: { configure: (app) => app.setGlobalPrefix('api'), controllers: [ThingsController] },
    login: '/api/auth/login',
    callback: '/auth/callback',
    logout: '/api/auth/logout',
    appRoute: '/api/things',
    notFound: ['/api/auth/callback', '/auth/login'],
  },
  {
    name: 'global prefix that excludes the login routes',
    redirectPath: '/auth/callback',
    setup: {
      configure: (app) => app.setGlobalPrefix('api', { exclude: [{ path: 'auth/login', method: RequestMethod.GET }, 'auth/logout'] }),
      controllers: [ThingsController],
    },
    login: '/auth/login',
    callback: '/auth/callback',
    logout: '/auth/logout',
    appRoute: '/api/things',
    notFound: ['/api/auth/login', '/api/auth/callback'],
  },
  {
    name: 'URI versioning with a default version, and a global prefix',
    redirectPath: '/api/auth/callback',
    setup: {
      configure: (app) => {
        app.setGlobalPrefix('api');
        app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
      },
      controllers: [ThingsController],
    },
    login: '/api/auth/login',
    callback: '/api/auth/callback',
    logout: '/api/auth/logout',
    appRoute: '/api/v1/things',
    notFound: ['/api/v1/auth/login', '/api/v1/auth/callback'],
  },
  {
    name: 'a redirectUri with a trailing slash (Fastify tells the two paths apart)',
    redirectPath: '/auth/callback/',
    setup: {},
    login: '/auth/login',
    callback: '/auth/callback/',
    logout: '/auth/logout',
    appRoute: '/',
    notFound: [],
  },
  {
    name: 'a RouterModule path for CognitoModule',
    redirectPath: '/auth/callback',
    setup: { imports: [RouterModule.register([{ path: 'accounts', module: CognitoModule }])], controllers: [ThingsController] },
    login: '/accounts/auth/login',
    callback: '/auth/callback',
    logout: '/accounts/auth/logout',
    appRoute: '/things',
    notFound: ['/accounts/auth/callback', '/auth/login'],
  },
];

for (const platform of PLATFORMS) {
  describe(`where the routes answer (${platform})`, () => {
    let cognito: LocalCognito;

    before(async () => {
      cognito = await LocalCognito.start({
        users: [ALICE],
        clients: [
          {
            clientId: 'webapp',
            clientSecret: 'webapp-secret-value',
            redirectUris: [...new Set(cases.map((c) => `${ORIGIN}${c.redirectPath}`))],
          },
        ],
      });
    });
    after(() => cognito?.stop());

    const options = (redirectPath: string, overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions => ({
      ...cognito.moduleOptions('webapp'),
      redirectUri: `${ORIGIN}${redirectPath}`,
      cookieSecret: COOKIE_SECRET,
      successRedirect: '/welcome',
      errorRedirect: '/login-error',
      ...overrides,
    });

    for (const c of cases) {
      it(`${c.name}: a full login, and the startup line names the mapped routes`, async () => {
        const app = await startApp(platform, options(c.redirectPath, c.options), c.setup);
        try {
          assert.equal((await get(`${app.url}${c.appRoute}`)).status, 200, `the app's own route ${c.appRoute}`);
          const login = await get(`${app.url}${c.login}`);
          assert.equal(login.status, 302, `login at ${c.login}`);
          const authorizeUrl = new URL(login.location!);
          assert.equal(authorizeUrl.searchParams.get('redirect_uri'), `${ORIGIN}${c.redirectPath}`);
          const redirect = await cognito.signIn(authorizeUrl.toString(), ALICE);
          assert.equal(redirect.pathname, c.callback);
          const callback = await get(`${app.url}${redirect.pathname}${redirect.search}`, cookiePairs(login.setCookies));
          assert.equal(callback.status, 302);
          assert.equal(callback.location, '/welcome');
          assert.equal(app.recorder.successes.length, 1);

          for (const path of c.notFound) {
            const response = await get(`${app.url}${path}?code=not-a-real-code-value&state=s`);
            assert.equal(response.status, 404, path);
          }
          const logout = await get(`${app.url}${c.logout}`, [], { 'sec-fetch-site': 'same-origin' });
          assert.equal(logout.status, 302, `logout at ${c.logout}`);

          const line = app.logger.lines.find((text) => text.includes('login starts at'));
          assert.ok(line?.includes(`login starts at ${c.login}, callback at ${c.callback}, logout at ${c.logout}`), line);
          assert.ok(!app.logger.lines.some((text) => text.includes('reverse proxy')), 'no warning when nothing differs');
        } finally {
          await app.close();
        }
      });
    }

    it('an explicit callbackPath (a reverse proxy rewrites paths) is served as given, with one warning naming both paths', async () => {
      const app = await startApp(platform, options('/auth/callback', { callbackPath: 'internal/cognito/callback' }), {
        configure: (nest) => nest.setGlobalPrefix('api'),
      });
      try {
        const login = await get(`${app.url}/api/auth/login`);
        const redirect = await cognito.signIn(login.location!, ALICE);
        assert.equal(redirect.pathname, '/auth/callback'); // what Cognito calls; the proxy would rewrite it
        const callback = await get(`${app.url}/internal/cognito/callback${redirect.search}`, cookiePairs(login.setCookies));
        assert.equal(callback.location, '/welcome');
        const warnings = app.logger.lines.filter((text) => text.includes('reverse proxy'));
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], /answers at \/internal\/cognito\/callback \(callbackPath\), but Cognito calls \/auth\/callback/);
      } finally {
        await app.close();
      }
    });

    it("refuses to boot when the app's own route already answers at the callback's path, and says so", async () => {
      await assert.rejects(
        () => startApp(platform, options('/auth/callback'), { controllers: [ClashingController] }),
        (error: unknown) => {
          assert.ok(error instanceof CognitoConfigurationError, String(error));
          assert.match(error.message, /GET \/auth\/callback/);
          return true;
        },
      );
    });
  });
}

describe('routes: secrets', () => {
  it('no code, token, cookie value or client secret reached the log', () => witness.assertNoSecretLogged());
});
