import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { CognitoModuleOptions } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, get, localOptions, PLATFORMS, startApp, witness, type TestApp } from './support/app.js';

/**
 * What an attacker tries against the login routes: open redirects through `returnTo` and the
 * handler's `redirectTo`, a handler that fails after signing the user in, oversized login
 * cookies, and app error text reaching the log. Each case runs on Express and Fastify.
 */
const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const APP_ORIGIN = new URL(REDIRECT_URI).origin;
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };

/** Whether a browser that gets this Location stays on the app's origin. */
function staysOnSite(location: string): boolean {
  return new URL(location, `${APP_ORIGIN}/auth/callback`).origin === APP_ORIGIN;
}

/** `returnTo` values that normalise (dot segments, percent-decoding, backslashes) into another host. */
const OFF_SITE_RETURN_TO = [
  '/.//evil.example/x',
  '/..//evil.example/x',
  '/./..//evil.example',
  '/a/..//evil.example/x',
  '/a/b/../..//evil.example',
  '/%2e//evil.example/x',
  '/%2E%2E//evil.example/x',
  '/.%2e//evil.example',
  '/./\\evil.example',
  '/.\\/evil.example',
  '/\\evil.example',
  '/\\\\evil.example',
  '//evil.example/x',
  '///evil.example/x',
  '/\t/evil.example',
  '/\n/evil.example',
  'https://evil.example/',
  'HTTPS://evil.example/',
  'javascript:alert(1)',
  '\\\\evil.example',
  'evil.example/x',
  '/\u0085/evil.example',
];

/** Values that are paths on this site, and what the callback sends for each. */
const ON_SITE_RETURN_TO: [input: string, location: string][] = [
  ['/orders?page=2', '/orders?page=2'],
  ['/a/./b/../c', '/a/c'],
  ['/%2f%2fevil.example', '/%2f%2fevil.example'],
  ['/%5cevil.example', '/%5cevil.example'],
  ['/x//y', '/x//y'],
  ['/ /evil.example', '/%20/evil.example'],
  // Encoded CR/LF stay encoded: a path, not a header break.
  ['/%0d%0aSet-Cookie:x=1', '/%0d%0aSet-Cookie:x=1'],
  ['/reports#section-2', '/reports#section-2'],
];

for (const platform of PLATFORMS) {
  describe(`login flow under attack (${platform})`, () => {
    let cognito: LocalCognito;
    let testApp: TestApp;

    const options = (overrides: Partial<CognitoModuleOptions> = {}) => localOptions(cognito, REDIRECT_URI, overrides);

    async function fullLogin(app: TestApp, query = '', extraCookies: string[] = []) {
      const started = await get(`${app.url}/auth/login${query}`, extraCookies);
      assert.equal(started.status, 302);
      const cookies = [...extraCookies, ...cookiePairs(started.setCookies)];
      const redirect = await cognito.signIn(started.location!, ALICE);
      return { started, cookies, response: await get(`${app.url}${redirect.pathname}${redirect.search}`, cookies) };
    }

    before(async () => {
      cognito = await LocalCognito.start({ users: [ALICE], clients: [{ clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] }] });
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
      testApp.recorder.establishSession = false;
    });

    describe('returnTo', () => {
      for (const evil of OFF_SITE_RETURN_TO) {
        it(`drops a returnTo that leads off the site: ${JSON.stringify(evil)}`, async () => {
          const { response } = await fullLogin(testApp, `?returnTo=${encodeURIComponent(evil)}`);
          assert.equal(response.status, 302);
          assert.equal(response.location, '/welcome');
          assert.equal(testApp.recorder.successes[0].returnTo, undefined);
          assert.ok(!response.setCookies.some((line) => line.startsWith('x=')));
        });
      }

      for (const [input, location] of ON_SITE_RETURN_TO) {
        it(`keeps a returnTo that stays on the site: ${JSON.stringify(input)}`, async () => {
          const { response } = await fullLogin(testApp, `?returnTo=${encodeURIComponent(input)}`);
          assert.equal(response.location, location);
          assert.ok(staysOnSite(response.location!));
        });
      }

      it('ignores a returnTo given twice (an array is not a path)', async () => {
        const { response } = await fullLogin(testApp, '?returnTo=/a&returnTo=//evil.example');
        assert.equal(response.location, '/welcome');
      });
    });

    describe("the handler's redirectTo", () => {
      const targets: [given: string, location: string][] = [
        ['/dashboard', '/dashboard'],
        ['https://spa.example.com/after-login', 'https://spa.example.com/after-login'],
        // Scheme-relative: another host, sent as the absolute URL a browser would read.
        ['//evil.example/x', 'http://evil.example/x'],
        ['/\\evil.example/x', 'http://evil.example/x'],
        // Sent percent-encoded: Fastify refuses raw non-ASCII in a header (a 500 before).
        ['/。', '/%E3%80%82'],
        ['/∕∕evil.example', '/%E2%88%95%E2%88%95evil.example'],
        // A path whose dot segment would make it //x: sent as the full same-origin URL.
        ['/.//x', 'http://127.0.0.1:3000//x'],
        ['\\/\\evil.example', ''],
        ['javascript:alert(1)', ''],
        ['data:text/html,hi', ''],
        ['https://user:pass@evil.example/', ''],
        ['/bad\r\nSet-Cookie: x=1', ''],
      ];
      for (const [given, location] of targets) {
        it(`${location ? `sends ${JSON.stringify(given)} as ${location}` : `refuses ${JSON.stringify(given)} (handler_failed)`}`, async () => {
          testApp.recorder.behaviour.onSuccess = () => ({ redirectTo: given });
          const { response } = await fullLogin(testApp);
          assert.equal(response.status, 302);
          assert.equal(response.location, location || '/login-error?error=handler_failed');
          if (location.startsWith('/')) assert.ok(staysOnSite(response.location!));
        });
      }

      it("reads onError's redirectTo by the same rule", async () => {
        testApp.recorder.behaviour.onError = () => ({ redirectTo: '/\\evil.example' });
        const response = await get(`${testApp.url}/auth/callback?code=x&state=y`);
        assert.equal(response.location, 'http://evil.example/');
        testApp.recorder.behaviour.onError = () => ({ redirectTo: 'javascript:alert(1)' });
        assert.equal((await get(`${testApp.url}/auth/callback?code=x&state=y`)).location, '/login-error?error=login_cookie_missing');
      });
    });

    describe('a handler that fails after establishing the session', () => {
      const failures: [string, () => never | { redirectTo: string }][] = [
        [
          'throws',
          () => {
            throw new Error('database down');
          },
        ],
        ['returns an unusable redirectTo', () => ({ redirectTo: 'javascript:alert(1)' })],
      ];
      for (const [what, onSuccess] of failures) {
        it(`sends no session cookie when the handler ${what}, and clears the session in the same response`, async () => {
          testApp.recorder.establishSession = true;
          testApp.recorder.behaviour.onSuccess = onSuccess;
          const { response } = await fullLogin(testApp);
          assert.equal(response.location, '/login-error?error=handler_failed');
          const sessionLines = response.setCookies.filter((line) => line.startsWith('cognito-session.'));
          assert.equal(sessionLines.length, 3, sessionLines.join('\n'));
          assert.ok(sessionLines.every((line) => /^cognito-session\.\d=; .*Max-Age=0/.test(line)), sessionLines.join('\n'));
          // What the browser keeps opens no session.
          const me = await get(`${testApp.url}/me`, cookiePairs(response.setCookies));
          assert.deepEqual(JSON.parse(me.body), { status: 'none' });
        });
      }

      it('keeps the session when the same handler succeeds (the control case)', async () => {
        testApp.recorder.establishSession = true;
        const { response } = await fullLogin(testApp);
        assert.equal(response.location, '/welcome');
        const me = await get(`${testApp.url}/me`, cookiePairs(response.setCookies));
        assert.equal(JSON.parse(me.body).status, 'active');
      });

      it("sends no live session cookie when onError answers the request itself", async () => {
        testApp.recorder.establishSession = true;
        testApp.recorder.behaviour.onSuccess = () => {
          throw new Error('banned user');
        };
        testApp.recorder.behaviour.onError = (_error, ctx) => {
          const res = ctx.response;
          if (typeof res.code === 'function') res.code(403).header('content-type', 'text/plain').send('Login refused');
          else res.status(403).type('text/plain').send('Login refused');
        };
        const { response } = await fullLogin(testApp);
        assert.equal(response.status, 403);
        assert.equal(response.body, 'Login refused');
        const live = cookiePairs(response.setCookies).filter((pair) => pair.startsWith('cognito-session.'));
        assert.deepEqual(live, []);
        assert.deepEqual(JSON.parse((await get(`${testApp.url}/me`, cookiePairs(response.setCookies))).body), { status: 'none' });
      });

      it('does not sign anyone out on a junk callback (no session was established there)', async () => {
        const response = await get(`${testApp.url}/auth/callback?code=x&state=y`, ['cognito-session.0=whatever']);
        assert.equal(response.location, '/login-error?error=login_cookie_missing');
        assert.ok(!response.setCookies.some((line) => line.startsWith('cognito-session.')));
      });
    });

    describe('login cookie size', () => {
      // Under the 2,048-character cap, but percent-encoding triples it: " is %22 once normalised.
      const long = `/${'"'.repeat(2000)}`;

      it('drops a returnTo too long for the cookie, and the login still succeeds', async () => {
        const { started, response } = await fullLogin(testApp, `?returnTo=${encodeURIComponent(long)}`);
        for (const line of started.setCookies) assert.ok(Buffer.byteLength(line.split(';')[0]) < 4096, `a login cookie of ${line.length} bytes`);
        assert.equal(response.location, '/welcome');
        assert.equal(testApp.recorder.successes[0].returnTo, undefined);
      });

      it('keeps a long returnTo that fits', async () => {
        const fits = `/${'a'.repeat(700)}?q=${'b'.repeat(200)}`;
        const { response } = await fullLogin(testApp, `?returnTo=${encodeURIComponent(fits)}`);
        assert.equal(response.location, fits);
      });

      for (const [what, headers] of [
        ["another site's image", { 'sec-fetch-dest': 'image', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' }],
        ["another site's frame", { 'sec-fetch-dest': 'iframe', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }],
        ["another site's script", { 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }],
      ] as [string, Record<string, string>][]) {
        it(`starts no login (and sets no cookie) for ${what}`, async () => {
          const response = await get(`${testApp.url}/auth/login?returnTo=/x`, [], headers);
          assert.equal(response.status, 400);
          assert.match(JSON.parse(response.body).message, /top-level navigation/);
          assert.deepEqual(response.setCookies, []);
        });
      }

      for (const [what, headers] of [
        ['a link followed on another site', { 'sec-fetch-dest': 'document', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }],
        ["the app's own script", { 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }],
      ] as [string, Record<string, string>][]) {
        it(`starts a login for ${what}`, async () => {
          assert.equal((await get(`${testApp.url}/auth/login`, [], headers)).status, 302);
        });
      }

      it('keeps the whole Cookie header within what servers accept, next to a large session', async () => {
        // Three session chunks near their limit, as a user with many groups and sessionIncludeIdToken has.
        let jar = [0, 1, 2].map((index) => `cognito-session.${index}=${'s'.repeat(3700)}`);
        const fits = `/${'a'.repeat(700)}`;
        for (let round = 0; round < 6; round++) {
          const response = await get(`${testApp.url}/auth/login?returnTo=${encodeURIComponent(fits)}`, jar);
          assert.equal(response.status, 302, `round ${round}`);
          for (const line of response.setCookies) {
            const name = line.slice(0, line.indexOf('='));
            jar = jar.filter((pair) => !pair.startsWith(`${name}=`));
            if (!/Max-Age=0/.test(line)) jar.push(line.split(';')[0]);
          }
          const header = Buffer.byteLength(jar.join('; '));
          assert.ok(header <= 12 * 1024 + 2000, `a Cookie header of ${header} bytes after ${round + 1} logins`);
        }
        assert.equal((await get(`${testApp.url}/`, jar)).status, 200);
      });

      it('keeps all pending login cookies under 8 KB, however many logins an attacker starts', async () => {
        let jar: string[] = [];
        const fits = `/${'a'.repeat(2000)}`;
        for (let round = 0; round < 12; round++) {
          const response = await get(`${testApp.url}/auth/login?returnTo=${encodeURIComponent(round % 2 ? fits : long)}`, jar);
          assert.equal(response.status, 302);
          for (const line of response.setCookies) {
            const name = line.slice(0, line.indexOf('='));
            jar = jar.filter((pair) => !pair.startsWith(`${name}=`));
            if (!/Max-Age=0/.test(line)) jar.push(line.split(';')[0]);
            assert.ok(Buffer.byteLength(line.split(';')[0]) < 4096);
          }
          const total = jar.reduce((sum, pair) => sum + Buffer.byteLength(pair) + 2, 0);
          assert.ok(total < 8 * 1024, `pending login cookies weigh ${total} bytes after ${round + 1} logins`);
          assert.ok(jar.length <= 4);
        }
        // The app still answers (no 431), and the newest login still completes.
        assert.equal((await get(`${testApp.url}/`, jar)).status, 200);
      });
    });

    it('seals cookies without a key identifier (nothing derived from the secret to test guesses against)', async () => {
      testApp.recorder.establishSession = true;
      const { started, response } = await fullLogin(testApp);
      const sealed = [...cookiePairs(started.setCookies), ...cookiePairs(response.setCookies).filter((pair) => pair.startsWith('cognito-session.0='))];
      assert.equal(sealed.length, 2);
      for (const pair of sealed) {
        const header = JSON.parse(Buffer.from(pair.slice(pair.indexOf('=') + 1).split('.')[0], 'base64url').toString());
        assert.deepEqual(header, { alg: 'dir', enc: 'A256GCM' });
      }
    });

    it("logs a failing handler's error name and code, never its message", async () => {
      const secretText = 'eyJhbGciOiJSUzI1NiJ9.leaked-token-in-an-app-message';
      witness.secrets.add(secretText);
      testApp.recorder.behaviour.onSuccess = () => {
        throw Object.assign(new RangeError(secretText), { code: 'E_DB_DOWN' });
      };
      testApp.logger.lines = [];
      const { response } = await fullLogin(testApp);
      assert.equal(response.location, '/login-error?error=handler_failed');
      const log = testApp.logger.lines.join('\n');
      assert.match(log, /Login failed: ERR_CALLBACK_HANDLER_FAILED: The application callback handler failed \(cause: RangeError \[E_DB_DOWN\]\)/);
      assert.ok(!log.includes('leaked-token'), log);
    });

    it('logs no made-up error name the app put on its error', async () => {
      testApp.recorder.behaviour.onSuccess = () => {
        throw Object.assign(new Error('x'), { name: 'token=abc.def.ghi leaked', code: 'has spaces and a token' });
      };
      testApp.logger.lines = [];
      await fullLogin(testApp);
      const log = testApp.logger.lines.join('\n');
      assert.match(log, /\(cause: Error\)/);
      assert.ok(!log.includes('abc.def.ghi') && !log.includes('has spaces'), log);
    });
  });
}

describe('secrets in logs (login attacks)', () => {
  it('logged no code, token, cookie value or secret during this file', () => {
    witness.assertNoSecretLogged();
  });
});
