// Direct tests of SessionStore: how a session is split over sealed cookies and read back, and
// what it refuses (missing, foreign, altered or surplus chunks).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestingModule } from '@nestjs/testing';
import { CookieSealer } from '../../lib/http/cookie-sealer.js';
import { SessionStore, type StoredSession } from '../../lib/session/session-store.js';
import { compileCognito } from '../support/module.js';

const request = (cookies: string[]) => ({ headers: cookies.length > 0 ? { cookie: cookies.join('; ') } : {} });
const pair = (setCookie: string) => setCookie.split(';')[0];
const valueOf = (setCookie: string) => pair(setCookie).slice(pair(setCookie).indexOf('=') + 1);
/** The cookies a browser keeps from Set-Cookie lines (removals dropped). */
const kept = (lines: string[]) => lines.filter((line) => valueOf(line) !== '').map(pair);
const ATTRIBUTES = '; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000; Secure';
const CLEAR_ATTRIBUTES = '; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure';
const NAME = '__Host-cognito-session.';

describe('SessionStore', () => {
  let moduleRef: TestingModule;
  let store: SessionStore;
  let sealer: CookieSealer;
  before(async () => {
    moduleRef = await compileCognito();
    store = moduleRef.get(SessionStore);
    sealer = moduleRef.get(CookieSealer);
  });
  after(() => moduleRef.close());

  /** A session whose seal is exactly `length` characters long, or undefined when none is. */
  async function sessionSealedTo(length: number): Promise<StoredSession | undefined> {
    for (let size = Math.floor(length * 0.7); size <= length; size++) {
      const session = { at: 'a'.repeat(size) };
      const sealed = await sealer.seal('session', session, 60);
      if (sealed.length === length) return session;
      if (sealed.length > length) return undefined;
    }
    return undefined;
  }

  it('writes a small session in cookie .0, clears .1 and .2, and reads it back', async () => {
    const session = { at: 'access', rt: 'refresh', it: 'id' };
    const lines = (await store.write(session))!;
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.map((line) => pair(line).split('=')[0]), [`${NAME}0`, `${NAME}1`, `${NAME}2`]);
    assert.equal(lines[0].slice(pair(lines[0]).length), ATTRIBUTES);
    assert.deepEqual(lines.slice(1), [`${NAME}1=${CLEAR_ATTRIBUTES}`, `${NAME}2=${CLEAR_ATTRIBUTES}`]);
    assert.deepEqual(await store.read(request(kept(lines))), session);
  });

  it('reads a session without refresh or ID token', async () => {
    const lines = (await store.write({ at: 'access' }))!;
    assert.deepEqual(await store.read(request(kept(lines))), { at: 'access', rt: undefined, it: undefined });
  });

  it('splits at 3,800 characters: a seal of 3,800 fits in one cookie, one of 3,801 takes two', async () => {
    const exact = await sessionSealedTo(3800);
    const over = await sessionSealedTo(3801);
    assert.ok(exact && over, 'seals of both lengths exist');
    const one = (await store.write(exact))!;
    assert.deepEqual(one.map((line) => valueOf(line).length), [3800, 0, 0]);
    const two = (await store.write(over))!;
    assert.deepEqual(two.map((line) => valueOf(line).length), [3800, 1, 0]);
    assert.deepEqual(await store.read(request(kept(two))), { ...over, rt: undefined, it: undefined });
  });

  it('uses at most three cookies: a seal of 11,400 characters fits, one of 11,401 does not', async () => {
    const exact = await sessionSealedTo(11400);
    const over = await sessionSealedTo(11401);
    assert.ok(exact && over, 'seals of both lengths exist');
    const three = (await store.write(exact))!;
    assert.deepEqual(three.map((line) => valueOf(line).length), [3800, 3800, 3800]);
    assert.deepEqual(await store.read(request(kept(three))), { ...exact, rt: undefined, it: undefined });
    assert.equal(await store.write(over), undefined);
  });

  it('answers undefined without its cookies, and invalid for a later chunk without the first', async () => {
    assert.equal(await store.read(request([])), undefined);
    assert.equal(await store.read({}), undefined);
    assert.equal(await store.read(request(['theme=dark', '__Host-cognito-login.abc=x', 'cognito-session.0=x'])), undefined);
    assert.equal(await store.read(request([`${NAME}1=x`])), 'invalid');
    assert.equal(await store.read(request([`${NAME}x=x`])), 'invalid');
  });

  it('reads chunks in order up to the first missing one, and never a fourth', async () => {
    const small = { at: 'access', rt: 'refresh' };
    const [first] = kept((await store.write(small))!);
    assert.deepEqual(await store.read(request([first, `${NAME}2=junk`])), { ...small, it: undefined }, 'a chunk after a gap is not read');
    const big = { at: 'a'.repeat(6000), rt: 'r'.repeat(2000) };
    const three = kept((await store.write(big))!);
    assert.equal(three.length, 3);
    assert.deepEqual(await store.read(request([...three, `${NAME}3=junk`])), { ...big, it: undefined }, 'a fourth chunk is not read');
    assert.deepEqual(await store.read(request([three[2], three[0], three[1]])), { ...big, it: undefined }, 'order in the header does not matter');
    assert.equal(await store.read(request([three[0], three[2]])), 'invalid', 'a missing middle chunk');
    assert.equal(await store.read(request([three[1], three[2]])), 'invalid');
  });

  const invalid: [label: string, value: () => Promise<string> | string][] = [
    ['garbage', () => 'junk'],
    ['a login-state seal', () => sealer.seal('login-state', { at: 'access' }, 60)],
    ['an expired seal', () => sealer.seal('session', { at: 'access' }, 0)],
    ['a seal of null', () => sealer.seal('session', null, 60)],
    ['a seal without an access token', () => sealer.seal('session', { rt: 'refresh' }, 60)],
    ['a numeric access token', () => sealer.seal('session', { at: 1 }, 60)],
    ['a numeric refresh token', () => sealer.seal('session', { at: 'access', rt: 1 }, 60)],
    ['a null refresh token', () => sealer.seal('session', { at: 'access', rt: null }, 60)],
    ['a numeric ID token', () => sealer.seal('session', { at: 'access', it: 1 }, 60)],
    ['an object for the ID token', () => sealer.seal('session', { at: 'access', it: {} }, 60)],
  ];
  for (const [label, value] of invalid) {
    it(`answers invalid for ${label}`, async () => {
      assert.equal(await store.read(request([`${NAME}0=${await value()}`])), 'invalid');
    });
  }

  it('keeps the session for sessionMaxAgeSeconds, without Secure or __Host- on http://localhost', async () => {
    const local = await compileCognito({ redirectUri: 'http://localhost:3000/auth/callback', sessionMaxAgeSeconds: 3600, cookieNamePrefix: 'app' });
    try {
      const other = local.get(SessionStore);
      const lines = (await other.write({ at: 'access' }))!;
      assert.equal(lines[0].slice(pair(lines[0]).length), '; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600');
      assert.equal(pair(lines[0]).split('=')[0], 'app-session.0');
      assert.deepEqual(other.clear(), [0, 1, 2].map((index) => `app-session.${index}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`));
      assert.deepEqual(await other.read(request(kept(lines))), { at: 'access', rt: undefined, it: undefined });
      assert.equal(await store.read(request(kept(lines))), undefined, 'cookies under another name are not this store’s');
    } finally {
      await local.close();
    }
  });

  it('clears all three cookies', () => {
    assert.deepEqual(store.clear(), [0, 1, 2].map((index) => `${NAME}${index}=${CLEAR_ATTRIBUTES}`));
  });

  it('knows its own cookies in a request and in Set-Cookie lines', () => {
    assert.equal(store.isPresent(request([`${NAME}0=x`])), true);
    assert.equal(store.isPresent(request(['theme=dark', `${NAME}7=x`])), true);
    assert.equal(store.isPresent(request(['theme=dark', '__Host-cognito-login.abc=x', 'cognito-session.0=x'])), false);
    assert.equal(store.isPresent(request([])), false);
    assert.equal(store.isSessionCookie(`${NAME}0=abc; Path=/`), true);
    assert.equal(store.isSessionCookie(`${NAME}2=; Max-Age=0`), true);
    assert.equal(store.isSessionCookie('__Host-cognito-login.abc=x; Path=/'), false);
    assert.equal(store.isSessionCookie(`theme=${NAME}0`), false);
  });
});
