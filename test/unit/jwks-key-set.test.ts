// Direct tests of JwksKeySet on a controllable clock against a scripted JWKS server on
// 127.0.0.1: the cache lifetime, the early background refresh, the cooldown for unknown kids,
// the failure backoff, stale keys while the endpoint is down, and which keys are imported.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import type { Logger } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { CognitoHttpClient } from '../../lib/http/cognito-http.client.js';
import { JwksKeySet } from '../../lib/tokens/jwks-key-set.js';
import { compileCognito } from '../support/module.js';
import { json, startServer, type ScriptedServer } from '../support/servers.js';
import { makeKey } from '../support/tokens.js';

const T0 = 1_800_000_000_000;
const SETTINGS = { cacheSeconds: 100, cooldownSeconds: 10, staleSeconds: 50 };
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('JwksKeySet', () => {
  let server: ScriptedServer;
  let moduleRef: TestingModule;
  let http: CognitoHttpClient;
  let respond: () => { status: number; body: unknown; type?: string };
  const [k1, k2, k3] = [makeKey('k1'), makeKey('k2'), makeKey('k3')];
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message) } as unknown as Logger;
  let changes = 0;
  let now: { value: number };

  before(async () => {
    server = await startServer((_req, res) => {
      const { status, body, type } = respond();
      if (type !== undefined) res.writeHead(status, { 'content-type': type }).end(typeof body === 'string' ? body : JSON.stringify(body));
      else json(res, status, body);
    });
    moduleRef = await compileCognito({ httpTimeoutMs: 2000 });
    http = moduleRef.get(CognitoHttpClient);
  });
  after(async () => {
    await moduleRef.close();
    await server.close();
  });
  beforeEach(() => {
    respond = () => ({ status: 200, body: { keys: [k1.jwk, k2.jwk] } });
    server.requests.length = 0;
    warnings.length = 0;
    changes = 0;
  });

  function keySet(t: TestContext, settings: Partial<typeof SETTINGS> = {}) {
    now = { value: T0 };
    t.mock.method(Date, 'now', () => now.value);
    return new JwksKeySet({ jwksUri: `${server.url}/jwks.json`, ...SETTINGS, ...settings }, http, logger, () => changes++);
  }
  const fetches = () => server.requests.length;
  const noKey = { code: 'ERR_JWKS_NO_MATCHING_KEY', message: "No key in the user pool's JWKS matches the token's kid" };
  const unavailable = (detail: string) => ({ code: 'ERR_JWKS_UNAVAILABLE', message: `The user pool's JWKS could not be loaded: ${detail}` });

  it('fetches the keys once and serves them by kid', async (t) => {
    const keys = keySet(t);
    const key = await keys.getKey('k1');
    assert.deepEqual(key.export({ format: 'jwk' }), { kty: 'RSA', n: k1.jwk.n, e: k1.jwk.e });
    assert.notEqual(await keys.getKey('k2'), key);
    assert.equal(await keys.getKey('k1'), key);
    assert.equal(fetches(), 1);
    assert.equal(server.requests[0].method, 'GET');
    assert.equal(server.requests[0].headers.accept, 'application/json');
  });

  it('shares one fetch between concurrent callers', async (t) => {
    const keys = keySet(t);
    await Promise.all([keys.getKey('k1'), keys.getKey('k2'), keys.getKey('k1')]);
    assert.equal(fetches(), 1);
  });

  it('refuses a kid that cannot be one without fetching anything', async (t) => {
    const keys = keySet(t);
    for (const kid of ['', 'k'.repeat(257), 'a b', 'a\nb', 'k1?x']) await assert.rejects(keys.getKey(kid), noKey);
    assert.equal(fetches(), 0);
    respond = () => ({ status: 200, body: { keys: [{ ...k1.jwk, kid: 'aZ09_-+/=.:' }, { ...k2.jwk, kid: 'k'.repeat(256) }] } });
    assert.ok(await keys.getKey('aZ09_-+/=.:'));
    assert.ok(await keys.getKey('k'.repeat(256)));
  });

  it('refetches for an unknown kid once per cooldown', async (t) => {
    const keys = keySet(t);
    await keys.getKey('k1');
    now.value = T0 + 9_999;
    await assert.rejects(keys.getKey('k3'), noKey);
    assert.equal(fetches(), 1, 'within the cooldown');
    respond = () => ({ status: 200, body: { keys: [k1.jwk, k2.jwk, k3.jwk] } });
    now.value = T0 + 10_000;
    assert.ok(await keys.getKey('k3'));
    assert.equal(fetches(), 2);
  });

  it('lets misses wait for a fetch in flight rather than fail', async (t) => {
    const keys = keySet(t);
    await keys.getKey('k1');
    now.value = T0 + 10_000;
    respond = () => ({ status: 200, body: { keys: [k1.jwk, k2.jwk, k3.jwk] } });
    const first = keys.getKey('k3');
    now.value = T0 + 10_001; // a second miss, within the cooldown of the fetch that just started
    const second = keys.getKey('k3');
    assert.equal(await first, await second);
    assert.equal(fetches(), 2);
  });

  it('serves cached keys without fetching until 80 % of the lifetime, then refreshes in the background', async (t) => {
    const keys = keySet(t);
    const key = await keys.getKey('k1');
    now.value = T0 + 79_999;
    assert.equal(keys.peek('k1', now.value), key);
    assert.equal(keys.freshness(now.value), 'fresh');
    assert.equal(await keys.getKey('k1'), key);
    await settle();
    assert.equal(fetches(), 1);

    now.value = T0 + 80_000;
    assert.equal(keys.peek('k1', now.value), undefined, 'peek leaves the refresh to getKey');
    respond = () => ({ status: 200, body: { keys: [k1.jwk, k2.jwk, k3.jwk] } });
    assert.equal(await keys.getKey('k1'), key, 'the current keys answer at once');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(fetches(), 2, 'a background refresh ran');
    assert.ok(keys.peek('k3', now.value), 'and its keys serve from now on');
  });

  it('answers fresh until the lifetime ends, then expired; refreshes in the background from 80 %', async (t) => {
    const keys = keySet(t);
    assert.equal(keys.freshness(now.value), 'expired', 'nothing fetched yet');
    await keys.getKey('k1');
    now.value = T0 + 79_999;
    assert.equal(keys.freshness(now.value), 'fresh');
    await settle();
    assert.equal(fetches(), 1);
    now.value = T0 + 80_000;
    assert.equal(keys.freshness(now.value), 'fresh');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(fetches(), 2);
    now.value = T0 + 80_000 + 99_999;
    assert.equal(keys.freshness(now.value), 'fresh');
    await new Promise((resolve) => setTimeout(resolve, 100)); // its background refresh, done before the next test
    assert.equal(fetches(), 3);
    // From now on the background refreshes fail, so the keys fetched last stay the ones in use.
    respond = () => ({ status: 500, body: {} });
    const fetchedAt = T0 + 80_000 + 99_999;
    now.value = fetchedAt + 99_999;
    assert.equal(keys.freshness(now.value), 'fresh');
    now.value = fetchedAt + 100_000;
    assert.equal(keys.freshness(now.value), 'expired');
    assert.equal(keys.peek('k1', now.value), undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('waits for a refetch once the lifetime has passed', async (t) => {
    const keys = keySet(t);
    await keys.getKey('k1');
    now.value = T0 + 100_000;
    respond = () => ({ status: 200, body: { keys: [k3.jwk] } });
    await assert.rejects(keys.getKey('k1'), noKey);
    assert.equal(fetches(), 2);
    assert.equal(changes, 1, 'removed keys are reported');
  });

  it('reports changed keys only when one was removed or replaced, not added', async (t) => {
    const keys = keySet(t);
    await keys.getKey('k1');
    assert.equal(changes, 0, 'the first fetch changes nothing');
    respond = () => ({ status: 200, body: { keys: [k1.jwk, k2.jwk, k3.jwk] } });
    now.value = T0 + 100_000;
    await keys.getKey('k1');
    assert.equal(changes, 0, 'a key added');
    respond = () => ({ status: 200, body: { keys: [k1.jwk, { ...k3.jwk, kid: 'k2' }, k3.jwk] } });
    now.value = T0 + 200_000;
    await keys.getKey('k1');
    assert.equal(changes, 1, 'a key replaced under the same kid');
  });

  it('serves stale keys while the endpoint is down, for staleSeconds past the lifetime, warning once', async (t) => {
    const keys = keySet(t);
    const key = await keys.getKey('k1');
    respond = () => ({ status: 503, body: { message: 'down' } });
    now.value = T0 + 100_000;
    assert.equal(await keys.getKey('k1'), key);
    now.value = T0 + 101_000; // past the failure backoff: tries again, still down
    assert.equal(await keys.getKey('k1'), key);
    assert.equal(fetches(), 3);
    assert.deepEqual(warnings, ["The user pool's JWKS is unreachable (The user pool's JWKS could not be loaded: HTTP 503); serving cached keys for up to 50 s"]);
    now.value = T0 + 149_999;
    assert.equal(await keys.getKey('k1'), key);
    now.value = T0 + 150_000;
    await assert.rejects(keys.getKey('k1'), unavailable('HTTP 503'));
    respond = () => ({ status: 200, body: { keys: [k1.jwk] } });
    now.value = T0 + 151_000;
    assert.ok(await keys.getKey('k1'), 'back');
    respond = () => ({ status: 503, body: {} });
    now.value = T0 + 251_000;
    assert.ok(await keys.getKey('k1'));
    assert.equal(warnings.length, 2, 'warns again after a recovery');
  });

  it('answers a failure for a second without a new request, then tries again', async (t) => {
    const keys = keySet(t);
    respond = () => ({ status: 500, body: {} });
    await assert.rejects(keys.getKey('k1'), unavailable('HTTP 500'));
    now.value = T0 + 999;
    await assert.rejects(keys.getKey('k1'), unavailable('HTTP 500'));
    assert.equal(fetches(), 1);
    respond = () => ({ status: 200, body: { keys: [k1.jwk] } });
    now.value = T0 + 1_000;
    assert.ok(await keys.getKey('k1'));
    assert.equal(fetches(), 2);
  });

  it('never serves stale keys when it has none', async (t) => {
    const keys = keySet(t, { staleSeconds: 3600 });
    respond = () => ({ status: 500, body: {} });
    await assert.rejects(keys.getKey('k1'), unavailable('HTTP 500'));
  });

  it('logs a failed prefetch, never throws it, and says it will retry', async (t) => {
    const keys = keySet(t);
    respond = () => ({ status: 502, body: {} });
    await keys.prefetch();
    assert.deepEqual(warnings, [`Could not prefetch the user pool's keys from ${server.url}/jwks.json: The user pool's JWKS could not be loaded: HTTP 502; will retry on the first token`]);
    respond = () => ({ status: 200, body: { keys: [k1.jwk] } });
    const other = keySet(t);
    await other.prefetch();
    assert.equal(fetches(), 2);
    assert.ok(other.peek('k1', now.value));
  });

  const documents: [label: string, answer: () => { status: number; body: unknown; type?: string }, detail: string][] = [
    ['HTTP 404', () => ({ status: 404, body: { keys: [k1.jwk] } }), 'HTTP 404'],
    ['a text/html body', () => ({ status: 200, body: JSON.stringify({ keys: [k1.jwk] }), type: 'text/html' }), 'the response is not JSON (content type)'],
    ['no content type', () => ({ status: 200, body: JSON.stringify({ keys: [k1.jwk] }), type: '' }), 'the response is not JSON (content type)'],
    ['application/jsonx', () => ({ status: 200, body: JSON.stringify({ keys: [k1.jwk] }), type: 'application/jsonx' }), 'the response is not JSON (content type)'],
    ['x-application/json', () => ({ status: 200, body: JSON.stringify({ keys: [k1.jwk] }), type: 'x-application/json' }), 'the response is not JSON (content type)'],
    ['a body that is not JSON', () => ({ status: 200, body: '{nope', type: 'application/json' }), 'the response is not JSON'],
    ['null', () => ({ status: 200, body: 'null', type: 'application/json' }), 'the response has no "keys" array'],
    ['no keys array', () => ({ status: 200, body: { keys: { 0: k1.jwk } } }), 'the response has no "keys" array'],
    ['an empty key list', () => ({ status: 200, body: { keys: [] } }), 'it holds no usable RS256 signing key'],
  ];
  for (const [label, answer, detail] of documents) {
    it(`reports ${label} as unavailable: ${detail}`, async (t) => {
      const keys = keySet(t);
      respond = answer;
      await assert.rejects(keys.getKey('k1'), unavailable(detail));
    });
  }

  it('accepts JSON content types with a suffix or parameters, in any case', async (t) => {
    for (const type of ['application/jwk-set+json', 'Application/JSON; charset=utf-8', 'application/json']) {
      const keys = keySet(t);
      respond = () => ({ status: 200, body: JSON.stringify({ keys: [k1.jwk] }), type });
      assert.ok(await keys.getKey('k1'), type);
    }
  });

  it('reports an endpoint that cannot be reached', async (t) => {
    const keys = new JwksKeySet({ jwksUri: 'http://127.0.0.1:1/jwks.json', ...SETTINGS }, http, logger, () => changes++);
    now = { value: T0 };
    t.mock.method(Date, 'now', () => now.value);
    await assert.rejects(keys.getKey('k1'), unavailable('the server could not be reached'));
  });

  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  const refusedKeys: [label: string, jwk: () => unknown][] = [
    ['not an object', () => 'k1'],
    ['null', () => null],
    ['an EC key', () => ({ ...k1.jwk, kty: 'EC' })],
    ['no kid', () => ({ ...k1.jwk, kid: undefined })],
    ['a numeric kid', () => ({ ...k1.jwk, kid: 1 })],
    ['a kid with a space', () => ({ ...k1.jwk, kid: 'k 1' })],
    ['a private key', () => ({ ...k1.jwk, d: 'AQAB' })],
    ['use enc', () => ({ ...k1.jwk, use: 'enc' })],
    ['alg RS512', () => ({ ...k1.jwk, alg: 'RS512' })],
    ['no modulus', () => ({ ...k1.jwk, n: undefined })],
    ['a numeric exponent', () => ({ ...k1.jwk, e: 65537 })],
    ['a modulus that is not a key', () => ({ ...k1.jwk, n: 'AAAA' })],
    ['1,024 bits', () => ({ ...small, kid: 'k1', alg: 'RS256', use: 'sig' })],
  ];
  for (const [label, jwk] of refusedKeys) {
    it(`skips a key that is ${label}`, async (t) => {
      const keys = keySet(t);
      respond = () => ({ status: 200, body: { keys: [jwk(), k2.jwk] } });
      await assert.rejects(keys.getKey('k1'), noKey);
      assert.ok(await keys.getKey('k2'));
    });
  }

  it('imports a key without use or alg', async (t) => {
    const keys = keySet(t);
    const { use: _use, alg: _alg, ...bare } = k1.jwk as JsonWebKey & { use?: string; alg?: string };
    respond = () => ({ status: 200, body: { keys: [bare] } });
    assert.ok(await keys.getKey('k1'));
  });

  it('uses only the first 32 keys of a long list, with a warning', async (t) => {
    const keys = keySet(t);
    const list = Array.from({ length: 33 }, (_, index) => ({ ...k1.jwk, kid: `kid-${index}` }));
    respond = () => ({ status: 200, body: { keys: list } });
    assert.ok(await keys.getKey('kid-31'));
    await assert.rejects(keys.getKey('kid-32'), noKey);
    assert.deepEqual(warnings, ["The user pool's JWKS lists 33 keys; only the first 32 are used"]);
    const exact = keySet(t);
    warnings.length = 0;
    respond = () => ({ status: 200, body: { keys: list.slice(0, 32) } });
    assert.ok(await exact.getKey('kid-31'));
    assert.deepEqual(warnings, []);
  });
});
