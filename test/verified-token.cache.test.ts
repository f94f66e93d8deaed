import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerifiedTokenCache } from '../lib/tokens/verified-token.cache.js';

const NOW = 1_800_000_000_000;
const LATER = NOW + 60_000;
/** Token-shaped strings; only the characters matter to the cache. */
const token = (name: string, signature = `${'x'.repeat(40)}-signature-of-${name}`) => `header.payload-of-${name}.${signature}`;
const claims = (name: string) => ({ sub: name, iss: 'https://issuer-a' });
const payloadOf = (cache: VerifiedTokenCache<string>, value: string, now = NOW) => cache.get(value, now)?.payload;

/** Sets a token twice: the cache admits a token on its second sighting. */
function admit(cache: VerifiedTokenCache<string>, value: string, issuer = 'https://issuer-a', expiresAt = LATER): void {
  cache.set(value, issuer, claims(value), expiresAt);
  cache.set(value, issuer, claims(value), expiresAt);
}

describe('VerifiedTokenCache', () => {
  it('admits a token on its second sighting, not its first', () => {
    const cache = new VerifiedTokenCache<string>(10);
    cache.set(token('a'), 'https://issuer-a', claims('a'), LATER);
    assert.equal(cache.get(token('a'), NOW), undefined);
    cache.set(token('a'), 'https://issuer-a', claims('a'), LATER);
    assert.deepEqual(payloadOf(cache, token('a')), claims('a'));
  });

  it('answers only for the very same token, not another one that ends alike', () => {
    const cache = new VerifiedTokenCache<string>(10);
    const shared = `same-signature-tail-${'y'.repeat(40)}`;
    admit(cache, token('a', shared));
    assert.deepEqual(payloadOf(cache, token('a', shared)), claims(token('a', shared)));
    assert.equal(cache.get(token('b', shared), NOW), undefined);
    assert.equal(cache.get(token('a', shared).slice(1), NOW), undefined);
  });

  it("forgets a token at its expiry", () => {
    const cache = new VerifiedTokenCache<string>(10);
    admit(cache, token('a'));
    assert.ok(cache.get(token('a'), LATER - 1));
    assert.equal(cache.get(token('a'), LATER), undefined);
    assert.equal(cache.get(token('a'), NOW), undefined, 'an expired entry is dropped, not kept for later');
  });

  it('holds at most maxEntries tokens, dropping the oldest first', () => {
    const cache = new VerifiedTokenCache<string>(3);
    for (const name of ['a', 'b', 'c', 'd', 'e']) admit(cache, token(name));
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e'].map((name) => cache.get(token(name), NOW) !== undefined),
      [false, false, true, true, true],
    );
  });

  it('does not evict a token admitted again from the slot it held before', () => {
    const cache = new VerifiedTokenCache<string>(3);
    admit(cache, token('a'), 'https://issuer-a', NOW + 1); // expires at once
    admit(cache, token('b'));
    assert.equal(cache.get(token('a'), NOW + 1), undefined);
    admit(cache, token('a')); // verified again: a newer entry in the third slot
    admit(cache, token('c')); // takes the first slot, which once held "a"
    assert.ok(cache.get(token('a'), NOW), '"a" lives in its newer slot');
    assert.ok(cache.get(token('b'), NOW));
    assert.ok(cache.get(token('c'), NOW));
  });

  it("drops one issuer's tokens and keeps the others'", () => {
    const cache = new VerifiedTokenCache<string>(10);
    admit(cache, token('a'), 'https://issuer-a');
    admit(cache, token('b'), 'https://issuer-b');
    cache.forgetIssuer('https://issuer-a');
    assert.equal(cache.get(token('a'), NOW), undefined);
    assert.ok(cache.get(token('b'), NOW));
  });

  it('keeps nothing when its size is 0', () => {
    const cache = new VerifiedTokenCache<string>(0);
    admit(cache, token('a'));
    assert.equal(cache.get(token('a'), NOW), undefined);
  });
});
