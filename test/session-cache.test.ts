import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CognitoModuleOptions } from '../lib/index.js';
import { resolveCognitoConfig } from '../lib/config/resolve-cognito-config.js';
import { CookieSealer, type CookiePurpose } from '../lib/http/cookie-sealer.js';
import { SessionStore, type StoredSession } from '../lib/session/session-store.js';
import { baseOptions } from './support/module.js';

/**
 * The cache of opened session cookies: a session's later requests skip decrypting its cookies,
 * and only the very same cookie value hits. The sealer is the real one, counted.
 */
class CountingSealer extends CookieSealer {
  opens = 0;
  override openWithExpiry(purpose: CookiePurpose, sealed: string) {
    this.opens += 1;
    return super.openWithExpiry(purpose, sealed);
  }
}

function storeWith(options: Partial<CognitoModuleOptions> = {}) {
  const config = resolveCognitoConfig(baseOptions({ sessionMaxAgeSeconds: 3600, ...options }));
  const sealer = new CountingSealer(config);
  return { store: new SessionStore(config, sealer), sealer };
}

/** The Cookie header a browser sends back for the cookies a store writes. */
async function cookieHeader(store: SessionStore, session: StoredSession): Promise<string> {
  const lines = await store.write(session);
  return lines!.map((line) => line.split(';')[0]).filter((pair) => !pair.endsWith('=')).join('; ');
}

const request = (cookie: string) => ({ headers: { cookie } });
/** Large enough to need two or three chunks. */
const big = (label: string): StoredSession => ({ at: `${label}-access-${'a'.repeat(3000)}`, rt: `${label}-refresh-${'r'.repeat(2500)}` });

describe('SessionStore: the cache of opened sessions', () => {
  it('opens a session once it is cached: later requests with the same cookies decrypt nothing', async () => {
    const { store, sealer } = storeWith();
    const cookie = await cookieHeader(store, big('alice'));
    for (let i = 0; i < 5; i++) assert.equal(((await store.read(request(cookie))) as StoredSession).at, big('alice').at);
    assert.equal(sealer.opens, 2, 'admitted on the second sighting, then served from the cache');
  });

  it('misses for a tampered chunk, a mix of two sessions’ chunks, and a cookie of another secret, even once the originals are cached', async () => {
    const { store, sealer } = storeWith();
    const alice = await cookieHeader(store, big('alice'));
    const bob = await cookieHeader(store, big('bob'));
    for (const cookie of [alice, alice, bob, bob]) await store.read(request(cookie));
    const opensWhenCached = sealer.opens;

    const [alice0, alice1] = alice.split('; ');
    const [, bob1] = bob.split('; ');
    assert.ok(alice1 !== undefined && bob1 !== undefined, 'two chunks each');
    const value0 = alice0.slice(alice0.indexOf('=') + 1);
    const middle = Math.floor(value0.length / 2);
    const tampered = `${alice0.slice(0, alice0.indexOf('=') + 1)}${value0.slice(0, middle)}${value0[middle] === 'A' ? 'B' : 'A'}${value0.slice(middle + 1)}`;
    const { store: rotated } = storeWith({ cookieSecret: 'Zq3xV9pL2mN8rT5wK1yB7cH4jF6gD0sA-rotated' });
    const foreign = await cookieHeader(rotated, big('alice'));

    for (const [name, cookie] of [
      ['a tampered chunk', `${tampered}; ${alice1}`],
      ["the first chunk of one session with the second of another", `${alice0}; ${bob1}`],
      ['a cookie sealed under another secret', foreign],
    ] as const) {
      const before = sealer.opens;
      assert.equal(await store.read(request(cookie)), 'invalid', name);
      assert.equal(sealer.opens, before + 1, `${name}: opened in full, not answered from the cache`);
    }
    // The genuine cookies still hit.
    assert.equal(((await store.read(request(alice))) as StoredSession).rt, big('alice').rt);
    assert.equal(sealer.opens, opensWhenCached + 3);
  });

  it('answers from the cache only for the Cookie header browsers send, and never differently from a full read', async () => {
    const { store } = storeWith();
    const cookie = await cookieHeader(store, big('alice'));
    await store.read(request(cookie));
    await store.read(request(cookie));
    const [[n0, first], [n1, second]] = cookie.split('; ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]);
    assert.equal(n0, '__Host-cognito-session.0'); // https: the __Host- prefix
    // What browsers send, with the site's other cookies around: answered from the cache.
    const hits = [cookie, `_ga=GA1.2.3; ${n0}=${first}; ${n1}=${second}; theme=dark`, `theme=dark; ${n0}=${first}; ${n1}=${second}`];
    // Anything else is left to the full read, which parses every cookie (and may or may not find the session).
    const others = [
      ` ${n0} = ${first} ;${n1}="${second}"`,
      `${n0}=${first}; ${n1}=${second}; ${n0}=another-value`,
      `${n0}=another-value; ${n0}=${first}; ${n1}=${second}`,
      `x${n0}=${first}; ${n1}=${second}`,
      `other=${n0}=${first}; ${n1}=${second}`,
      `${n1}=${second}; ${n0}=${first}`,
      `${n1}=${second}`,
      `${n0.replace('__Host-', '')}=${first}; ${n1.replace('__Host-', '')}=${second}`,
    ];
    for (const header of hits) assert.equal(store.readKnown(request(header))?.at, big('alice').at, header.slice(0, 40));
    for (const header of [...hits, ...others]) {
      const known = store.readKnown(request(header));
      const full = await store.read(request(header));
      if (known !== undefined) assert.deepEqual(known, full, `the cache and a full read agree: ${header.slice(0, 40)}`);
      if (others.includes(header)) assert.equal(known, undefined, `left to the full read: ${header.slice(0, 40)}`);
    }
  });

  it('lets a cached session end when its seal does', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { store } = storeWith({ sessionMaxAgeSeconds: 120 });
    const cookie = await cookieHeader(store, big('alice'));
    await store.read(request(cookie));
    assert.equal(typeof (await store.read(request(cookie))), 'object');
    t.mock.timers.tick(121_000);
    assert.equal(await store.read(request(cookie)), 'invalid');
  });

  it('keeps nothing with sessionCacheSize 0', async () => {
    const { store, sealer } = storeWith({ sessionCacheSize: 0 });
    const cookie = await cookieHeader(store, big('alice'));
    for (let i = 0; i < 3; i++) await store.read(request(cookie));
    assert.equal(sealer.opens, 3);
  });

  it('hands out frozen sessions from the cache, so no request can change another’s', async () => {
    const { store } = storeWith();
    const cookie = await cookieHeader(store, big('alice'));
    await store.read(request(cookie));
    const cached = (await store.read(request(cookie))) as StoredSession;
    assert.ok(Object.isFrozen(cached));
  });
});
