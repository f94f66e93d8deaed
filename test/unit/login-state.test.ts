// Direct tests of LoginStateService: the sealed login cookie that binds a callback to the
// browser that started the login (names, limits, single use, every refusal).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestingModule } from '@nestjs/testing';
import { CookieSealer } from '../../lib/http/cookie-sealer.js';
import { LoginStateService, type LoginState } from '../../lib/login/login-state.service.js';
import type { CognitoModuleOptions } from '../../lib/index.js';
import { compileCognito } from '../support/module.js';

interface Harness {
  moduleRef: TestingModule;
  service: LoginStateService;
  sealer: CookieSealer;
}

async function harness(overrides: Partial<CognitoModuleOptions> = {}): Promise<Harness> {
  const moduleRef = await compileCognito(overrides);
  return { moduleRef, service: moduleRef.get(LoginStateService), sealer: moduleRef.get(CookieSealer) };
}

const login = (state: string, extra: Partial<LoginState> = {}): LoginState => ({
  state,
  codeVerifier: `verifier-of-${state}`,
  nonce: `nonce-of-${state}`,
  redirectUri: 'https://app.example.com/auth/callback',
  ...extra,
});

const nameFor = (state: string, prefix = '__Host-cognito') => `${prefix}-login.${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
const request = (cookies: string[]) => ({ headers: cookies.length > 0 ? { cookie: cookies.join('; ') } : {} });
/** `name=value` of a Set-Cookie line. */
const pair = (setCookie: string) => setCookie.split(';')[0];
const nameOf = (setCookie: string) => pair(setCookie).split('=')[0];
/** What a cookie weighs in the Cookie header, as the service counts it. */
const weight = (name: string, value: string) => Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 2;
const removal = (name: string) => `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure`;

describe('LoginStateService', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.moduleRef.close());

  /** Saves a login and returns the request a browser would send back with its cookie. */
  async function saved(state: string, extra: Partial<LoginState> = {}, cookies: string[] = []) {
    const set = await h.service.save(request(cookies), login(state, extra));
    return { set, back: request([...cookies, pair(set[0])]) };
  }

  describe('save', () => {
    it('sets one cookie named after a hash of the state, with the login lifetime, Secure and __Host- on https', async () => {
      const set = await h.service.save(request([]), login('state-a'));
      assert.equal(set.length, 1);
      const [name, value] = pair(set[0]).split('=');
      assert.equal(name, nameFor('state-a'));
      assert.ok(value.length > 100);
      assert.equal(set[0].slice(pair(set[0]).length), '; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Secure');
      assert.ok(!set[0].includes('state-a'), 'the state is not readable in the cookie');
    });

    it('uses loginTimeoutSeconds, cookieNamePrefix, and neither Secure nor __Host- on http://localhost', async () => {
      const local = await harness({ redirectUri: 'http://localhost:3000/auth/callback', cookieNamePrefix: 'myapp', loginTimeoutSeconds: 120 });
      try {
        const [cookie] = await local.service.save(request([]), login('state-a'));
        assert.equal(nameOf(cookie), nameFor('state-a', 'myapp'));
        assert.equal(cookie.slice(pair(cookie).length), '; Path=/; HttpOnly; SameSite=Lax; Max-Age=120');
        const opened = (await local.sealer.open('login-state', pair(cookie).split('=')[1])) as LoginState;
        assert.equal(opened.state, 'state-a');
      } finally {
        await local.moduleRef.close();
      }
    });

    it('seals the whole login, returnTo included, for consume to find', async () => {
      const started = login('state-b', { returnTo: '/orders?x=1' });
      const { back } = await saved('state-b', { returnTo: '/orders?x=1' });
      const result = await h.service.consume(back, 'state-b');
      assert.deepEqual(result.login, started);
      assert.equal(result.error, undefined);
      assert.deepEqual(result.clear, [removal(nameFor('state-b'))]);
    });

    it('keeps up to three other pending logins, and drops the oldest from the fourth on', async () => {
      const pending = ['p1', 'p2', 'p3', 'p4', 'p5'].map((state) => `${nameFor(state)}=value-of-${state}`);
      const names = (set: string[]) => set.map(nameOf);

      assert.deepEqual(names(await h.service.save(request(pending.slice(0, 3)), login('new'))), [nameFor('new')]);
      const four = await h.service.save(request(pending.slice(0, 4)), login('new'));
      assert.deepEqual(names(four), [nameFor('new'), nameFor('p1')]);
      assert.equal(four[1], removal(nameFor('p1')));
      assert.deepEqual(names(await h.service.save(request(pending), login('new'))), [nameFor('new'), nameFor('p1'), nameFor('p2')]);
    });

    it('saves a login for a request without headers, or without a request', async () => {
      for (const bare of [{}, undefined, { headers: {} }]) {
        const set = await h.service.save(bare, login('state-bare'));
        assert.deepEqual(set.map(nameOf), [nameFor('state-bare')]);
      }
    });

    it('counts only its own login cookies as pending', async () => {
      const others = ['__Host-cognito-session.0=x', 'cognito-login.abc=x', '__Host-other-login.abc=x', 'theme=dark', 'a=1'];
      assert.equal((await h.service.save(request(others), login('new'))).length, 1);
    });

    it('drops the returnTo of a login whose cookie would pass 2,000 bytes, exactly at the limit', async () => {
      let atLimit = 0;
      for (const prefix of ['cognito', 'cognitoX', 'cognitoXY']) {
        const other = await harness({ cookieNamePrefix: prefix });
        try {
          const name = nameFor('state-c', `__Host-${prefix}`);
          for (let length = 1150; length <= 1350; length++) {
            const returnTo = `/${'r'.repeat(length - 1)}`;
            const full = weight(name, await other.sealer.seal('login-state', login('state-c', { returnTo }), 600));
            const [cookie] = await other.service.save(request([]), login('state-c', { returnTo }));
            const opened = (await other.sealer.open('login-state', pair(cookie).slice(name.length + 1))) as LoginState;
            assert.equal(opened.returnTo, full <= 2000 ? returnTo : undefined, `a cookie of ${full} bytes`);
            assert.equal(opened.state, 'state-c');
            if (full === 2000) atLimit++;
          }
        } finally {
          await other.moduleRef.close();
        }
      }
      assert.ok(atLimit > 0, 'some cookie weighed exactly 2,000 bytes');
    });

    it('drops the returnTo when the Cookie header would pass 12 KiB, exactly at the limit', async () => {
      const returnTo = `/${'r'.repeat(300)}`;
      const name = nameFor('state-d');
      const size = weight(name, await h.sealer.seal('login-state', login('state-d', { returnTo }), 600));
      const header = (bytes: number) => [`big=${'b'.repeat(bytes - 4)}`];
      for (const [others, kept] of [
        [12 * 1024 - size, true],
        [12 * 1024 - size + 1, false],
      ] as const) {
        const [cookie] = await h.service.save(request(header(others)), login('state-d', { returnTo }));
        const opened = (await h.sealer.open('login-state', pair(cookie).slice(name.length + 1))) as LoginState;
        assert.equal(opened.returnTo, kept ? returnTo : undefined, `other cookies of ${others} bytes`);
      }
    });

    it('drops the oldest pending logins when all of them together would pass 8,000 bytes, exactly at the limit', async () => {
      const [cookie] = await h.service.save(request([]), login('new'));
      const own = weight(nameOf(cookie), pair(cookie).slice(nameOf(cookie).length + 1));
      // Three pending logins that, with the new one, weigh exactly 8,000 bytes (then one more).
      const pendingOf = (extra: number) => {
        const names = ['p1', 'p2', 'p3'].map((state) => nameFor(state));
        const budget = 8000 - own + extra;
        const fixed = names.reduce((sum, name) => sum + weight(name, ''), 0);
        const sizes = [Math.floor((budget - fixed) / 3), Math.floor((budget - fixed) / 3)];
        sizes.push(budget - fixed - sizes[0] - sizes[1]);
        return names.map((name, index) => `${name}=${'v'.repeat(sizes[index])}`);
      };
      assert.equal((await h.service.save(request(pendingOf(0)), login('new'))).length, 1);
      const over = await h.service.save(request(pendingOf(1)), login('new'));
      assert.deepEqual(over.map(nameOf), [nameFor('new'), nameFor('p1')], 'only the oldest is dropped');
    });

    it('drops pending logins while the whole Cookie header would pass 12 KiB, exactly at the limit', async () => {
      const [cookie] = await h.service.save(request([]), login('new'));
      const own = weight(nameOf(cookie), pair(cookie).slice(nameOf(cookie).length + 1));
      const pending = ['p1', 'p2'].map((state) => `${nameFor(state)}=${'v'.repeat(1000)}`);
      const pendingBytes = pending.reduce((sum, line) => sum + Buffer.byteLength(line) + 2, 0);
      // The header also holds the pending cookies; `big=…; ` stands for everything else.
      const withOthers = (otherBytes: number) => [`big=${'b'.repeat(otherBytes - 4)}`, ...pending];
      assert.equal((await h.service.save(request(withOthers(12 * 1024 - own - pendingBytes)), login('new'))).length, 1);
      const over = await h.service.save(request(withOthers(12 * 1024 - own - pendingBytes + 1)), login('new'));
      assert.deepEqual(over.map(nameOf), [nameFor('new'), nameFor('p1')]);
    });

    it('drops every pending login, and no more, when even the new one alone is too much', async () => {
      const pending = [`${nameFor('p1')}=v`];
      const set = await h.service.save(request([`big=${'b'.repeat(12 * 1024)}`, ...pending]), login('new'));
      assert.deepEqual(set.map(nameOf), [nameFor('new'), nameFor('p1')]);
    });
  });

  describe('consume', () => {
    const refusals: [label: string, state: string | undefined][] = [
      ['no state', undefined],
      ['an empty state', ''],
      ['a state over 512 characters', 's'.repeat(513)],
    ];
    for (const [label, state] of refusals) {
      it(`answers ERR_CALLBACK_MISSING_STATE, with nothing to clear, for ${label}`, async () => {
        const { back } = await saved('state-e');
        const result = await h.service.consume(back, state);
        assert.equal(result.error?.code, 'ERR_CALLBACK_MISSING_STATE');
        assert.equal(result.login, undefined);
        assert.deepEqual(result.clear, []);
      });
    }

    it('accepts a state of exactly 512 characters', async () => {
      const state = 's'.repeat(512);
      const { back } = await saved(state);
      const result = await h.service.consume(back, state);
      assert.equal(result.error, undefined);
      assert.equal(result.login?.state, state);
    });

    it('answers ERR_LOGIN_COOKIE_MISSING without any login cookie, ERR_STATE_MISMATCH when other logins are pending', async () => {
      const none = await h.service.consume(request(['theme=dark']), 'state-f');
      assert.equal(none.error?.code, 'ERR_LOGIN_COOKIE_MISSING');
      assert.deepEqual(none.clear, []);
      const { back } = await saved('state-g');
      const other = await h.service.consume(back, 'state-f');
      assert.equal(other.error?.code, 'ERR_STATE_MISMATCH');
      assert.deepEqual(other.clear, [], 'another login’s cookie is left alone');
    });

    it('answers ERR_LOGIN_EXPIRED for an expired seal, and clears it', async () => {
      const name = nameFor('state-h');
      const value = await h.sealer.seal('login-state', login('state-h'), 0);
      const result = await h.service.consume(request([`${name}=${value}`]), 'state-h');
      assert.equal(result.error?.code, 'ERR_LOGIN_EXPIRED');
      assert.equal(result.login, undefined);
      assert.deepEqual(result.clear, [removal(name)]);
    });

    const invalid: [label: string, content: () => Promise<string> | string][] = [
      ['garbage', () => 'not-a-seal'],
      ['a session seal', () => h.sealer.seal('session', login('state-i'), 600)],
      ['a seal of null', () => h.sealer.seal('login-state', null, 600)],
      ['a seal without the state', () => h.sealer.seal('login-state', { ...login('state-i'), state: undefined }, 600)],
      ['a seal with a numeric code verifier', () => h.sealer.seal('login-state', { ...login('state-i'), codeVerifier: 1 }, 600)],
      ['a seal without the nonce', () => h.sealer.seal('login-state', { ...login('state-i'), nonce: undefined }, 600)],
      ['a seal with an object for redirectUri', () => h.sealer.seal('login-state', { ...login('state-i'), redirectUri: {} }, 600)],
    ];
    for (const [label, content] of invalid) {
      it(`answers ERR_LOGIN_COOKIE_INVALID for ${label}, and clears it`, async () => {
        const name = nameFor('state-i');
        const result = await h.service.consume(request([`${name}=${await content()}`]), 'state-i');
        assert.equal(result.error?.code, 'ERR_LOGIN_COOKIE_INVALID');
        assert.equal(result.login, undefined);
        assert.deepEqual(result.clear, [removal(name)]);
      });
    }

    it('drops a returnTo that is not a string', async () => {
      const name = nameFor('state-j');
      const value = await h.sealer.seal('login-state', { ...login('state-j'), returnTo: 7 }, 600);
      const result = await h.service.consume(request([`${name}=${value}`]), 'state-j');
      assert.deepEqual(result.login, { ...login('state-j'), returnTo: undefined });
    });

    it('answers ERR_STATE_MISMATCH for a cookie that opens but holds another login, and clears it', async () => {
      const name = nameFor('state-k');
      const value = await h.sealer.seal('login-state', login('state-other'), 600);
      const result = await h.service.consume(request([`${name}=${value}`]), 'state-k');
      assert.equal(result.error?.code, 'ERR_STATE_MISMATCH');
      assert.equal(result.login, undefined);
      assert.deepEqual(result.clear, [removal(name)]);
    });

    it('finds its own login among several pending ones', async () => {
      const first = await saved('state-l');
      const second = await saved('state-m', {}, [pair(first.set[0])]);
      assert.equal((await h.service.consume(second.back, 'state-l')).login?.state, 'state-l');
      assert.equal((await h.service.consume(second.back, 'state-m')).login?.state, 'state-m');
    });
  });
});
