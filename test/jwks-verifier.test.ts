import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JwksVerifierService, JwtVerificationError, JwksNoMatchingKeyError, JwksUnavailableError, CognitoError } from '../lib/index.js';
import { compileCognito } from './support/module.js';
import { closedPort, startServer, json } from './support/servers.js';
import { b64url, CLIENT_ID, makeKey, mint, signRaw, startJwksServer, type JwksServer, type SigningKey } from './support/tokens.js';

describe('JwksVerifierService', () => {
  let key: SigningKey;
  let otherKey: SigningKey;
  let jwks: JwksServer;
  let verifier: JwksVerifierService;

  before(async () => {
    key = makeKey('key-1');
    otherKey = makeKey('key-unpublished');
    jwks = await startJwksServer([key]);
    const moduleRef = await compileCognito({ issuer: jwks.issuer, jwksCooldownSeconds: 1, clockToleranceSeconds: 5 });
    verifier = moduleRef.get(JwksVerifierService);
  });
  after(() => jwks.close());

  it('accepts a valid ID token and returns its claims', async () => {
    const claims = await verifier.verifyIdToken(await mint(key, jwks.issuer, 'id', { nonce: 'n-1' }), { nonce: 'n-1' });
    assert.equal(claims.sub, 'user-sub-1');
    assert.equal(claims.token_use, 'id');
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.email, 'alice@example.com');
  });

  it('accepts a valid access token (client_id, no aud) and returns its claims', async () => {
    const claims = await verifier.verifyAccessToken(await mint(key, jwks.issuer, 'access'));
    assert.equal(claims.client_id, CLIENT_ID);
    assert.equal(claims.scope, 'openid email');
    assert.equal(claims.aud, undefined);
  });

  for (const [what, claims] of [
    ['a one-entry aud list without azp', { aud: [CLIENT_ID] }],
    ['an aud list with azp naming this client', { aud: ['another-client', CLIENT_ID], azp: CLIENT_ID }],
    ['a single aud and azp both naming this client', { aud: CLIENT_ID, azp: CLIENT_ID }],
  ] as const) {
    it(`accepts an ID token with ${what}`, async () => {
      const verified = await verifier.verifyIdToken(await mint(key, jwks.issuer, 'id', { ...claims }));
      assert.deepEqual(verified.aud, claims.aud);
    });
  }

  it('verify() dispatches on tokenUse', async () => {
    const claims = await verifier.verify(await mint(key, jwks.issuer, 'access'), { tokenUse: 'access' });
    assert.equal(claims.token_use, 'access');
  });

  const now = () => Math.floor(Date.now() / 1000);
  type Case = {
    name: string;
    token: () => Promise<string> | string;
    use?: 'id' | 'access';
    nonce?: string;
    code: string;
    claim?: string;
    errorClass?: new (...args: any[]) => CognitoError;
  };
  const cases: Case[] = [
    { name: 'expired', token: () => mint(key, jwks.issuer, 'id', { exp: now() - 60, iat: now() - 3600 }), code: 'ERR_JWT_EXPIRED' },
    { name: 'without exp', token: () => mint(key, jwks.issuer, 'id', { exp: undefined }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'exp' },
    { name: 'nbf in the future', token: () => mint(key, jwks.issuer, 'id', { nbf: now() + 600 }), code: 'ERR_JWT_NOT_YET_VALID' },
    { name: 'iat in the future beyond tolerance', token: () => mint(key, jwks.issuer, 'id', { iat: now() + 60 }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'iat' },
    { name: 'wrong iss', token: () => mint(key, jwks.issuer, 'id', { iss: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'iss' },
    { name: 'wrong aud on an ID token', token: () => mint(key, jwks.issuer, 'id', { aud: 'another-client' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'aud' },
    // OIDC Core 3.1.3.7: with several audiences, azp must name this client.
    { name: 'an aud list with this client but no azp', token: () => mint(key, jwks.issuer, 'id', { aud: ['another-client', CLIENT_ID] }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'azp' },
    { name: 'an aud list whose azp is another client', token: () => mint(key, jwks.issuer, 'id', { aud: [CLIENT_ID, 'another-client'], azp: 'another-client' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'azp' },
    { name: 'an aud list whose azp is not a string', token: () => mint(key, jwks.issuer, 'id', { aud: [CLIENT_ID, 'another-client'], azp: [CLIENT_ID] }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'azp' },
    { name: 'an aud list without this client, azp set to it', token: () => mint(key, jwks.issuer, 'id', { aud: ['another-client', 'third-client'], azp: CLIENT_ID }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'aud' },
    { name: 'a single aud with azp naming another client', token: () => mint(key, jwks.issuer, 'id', { aud: CLIENT_ID, azp: 'another-client' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'azp' },
    { name: 'a one-entry aud list with azp naming another client', token: () => mint(key, jwks.issuer, 'id', { aud: [CLIENT_ID], azp: 'another-client' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'azp' },
    { name: 'an empty aud list', token: () => mint(key, jwks.issuer, 'id', { aud: [] }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'aud' },
    { name: 'an aud list with a non-string entry', token: () => mint(key, jwks.issuer, 'id', { aud: [CLIENT_ID, 42], azp: CLIENT_ID }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'aud' },
    { name: 'access token with wrong client_id', use: 'access', token: () => mint(key, jwks.issuer, 'access', { client_id: 'another-client' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'client_id' },
    { name: 'access token given where an ID token is expected', token: () => mint(key, jwks.issuer, 'access', { aud: CLIENT_ID }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'token_use' },
    { name: 'ID token given where an access token is expected', use: 'access', token: () => mint(key, jwks.issuer, 'id', { client_id: CLIENT_ID }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'token_use' },
    { name: 'nonce mismatch', nonce: 'expected', token: () => mint(key, jwks.issuer, 'id', { nonce: 'other' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'nonce' },
    { name: 'nonce missing when expected', nonce: 'expected', token: () => mint(key, jwks.issuer, 'id'), code: 'ERR_JWT_CLAIM_INVALID', claim: 'nonce' },
    { name: 'missing sub', token: () => mint(key, jwks.issuer, 'id', { sub: undefined }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'sub' },
    {
      name: 'alg none',
      token: async () => `${b64url({ alg: 'none', kid: 'key-1' })}.${(await mint(key, jwks.issuer, 'id')).split('.')[1]}.`,
      code: 'ERR_JWT_MALFORMED',
    },
    {
      name: 'alg none with a signature part',
      token: async () => `${b64url({ alg: 'none', kid: 'key-1' })}.${(await mint(key, jwks.issuer, 'id')).split('.')[1]}.AAAA`,
      code: 'ERR_JWT_ALG_NOT_ALLOWED',
    },
    {
      name: 'HS256 signed with the public key as secret',
      token: async () => {
        const { createHmac, createPublicKey } = await import('node:crypto');
        const pem = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' });
        const input = `${b64url({ alg: 'HS256', kid: 'key-1' })}.${(await mint(key, jwks.issuer, 'id')).split('.')[1]}`;
        return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
      code: 'ERR_JWT_ALG_NOT_ALLOWED',
    },
    { name: 'unknown kid', token: () => mint(otherKey, jwks.issuer, 'id'), code: 'ERR_JWKS_NO_MATCHING_KEY', errorClass: JwksNoMatchingKeyError },
    { name: 'known kid, signed by another key', token: () => mint({ ...otherKey, kid: 'key-1' }, jwks.issuer, 'id'), code: 'ERR_JWT_SIGNATURE_INVALID' },
    {
      name: 'tampered payload',
      token: async () => {
        const [header, , signature] = (await mint(key, jwks.issuer, 'id')).split('.');
        return `${header}.${b64url({ sub: 'admin', aud: CLIENT_ID, iss: jwks.issuer, token_use: 'id', iat: now(), exp: now() + 3600 })}.${signature}`;
      },
      code: 'ERR_JWT_SIGNATURE_INVALID',
    },
    {
      name: 'truncated signature',
      token: async () => (await mint(key, jwks.issuer, 'id')).slice(0, -10),
      code: 'ERR_JWT_SIGNATURE_INVALID',
    },
    {
      name: 'crit header',
      token: async () => {
        const payload = JSON.parse(Buffer.from((await mint(key, jwks.issuer, 'id')).split('.')[1], 'base64url').toString());
        return signRaw(key, { alg: 'RS256', kid: 'key-1', crit: ['x-custom'], 'x-custom': 1 }, payload);
      },
      code: 'ERR_JWT_MALFORMED',
    },
    { name: 'no kid', token: () => mint(key, jwks.issuer, 'id', {}, { kid: undefined }), code: 'ERR_JWT_MALFORMED' },
    { name: 'empty string', token: () => '', code: 'ERR_JWT_MALFORMED' },
    { name: 'two segments', token: () => 'abc.def', code: 'ERR_JWT_MALFORMED' },
    { name: 'four segments', token: () => 'a.b.c.d', code: 'ERR_JWT_MALFORMED' },
    { name: 'non-base64url characters', token: () => 'a+b.c/d.e=f', code: 'ERR_JWT_MALFORMED' },
    { name: 'header is not JSON', token: () => `${b64url('not json')}.${b64url({})}.AAAA`, code: 'ERR_JWT_MALFORMED' },
    { name: 'payload is a JSON array', token: () => `${b64url({ alg: 'RS256', kid: 'key-1' })}.${b64url([1])}.AAAA`, code: 'ERR_JWT_MALFORMED' },
    { name: 'oversized token', token: () => `${'a'.repeat(70_000)}.b.c`, code: 'ERR_JWT_MALFORMED' },
    { name: 'a kid with forbidden characters', token: () => mint({ ...key, kid: 'key 1\n' }, jwks.issuer, 'id'), code: 'ERR_JWKS_NO_MATCHING_KEY' },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name} with ${testCase.code}`, async () => {
      const token = await testCase.token();
      const error = await verifier.verify(token, { tokenUse: testCase.use ?? 'id', nonce: testCase.nonce }).then(
        () => assert.fail('the token was accepted'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof CognitoError, `expected a CognitoError, got ${String(error)}`);
      assert.ok(error instanceof (testCase.errorClass ?? (testCase.code.startsWith('ERR_JWKS') ? CognitoError : JwtVerificationError)));
      assert.equal(error.code, testCase.code);
      if (testCase.claim) assert.equal((error as JwtVerificationError).claim, testCase.claim);
      if (token.length > 20) assert.ok(!error.message.includes(token.split('.')[1] ?? token), 'the message must not quote the token');
    });
  }

  it('hands out the claims it shares between callers deeply frozen, so no caller can change what the next one sees', async () => {
    const token = await mint(key, jwks.issuer, 'access', { jti: 'mutable', 'cognito:groups': ['staff'], nested: { roles: ['a'] } });
    // The first sighting is not cached: those claims are the caller's own, and changing them changes nothing for others.
    const first = (await verifier.verifyAccessToken(token)) as Record<string, any>;
    first['cognito:groups'].push('admin');
    first.sub = 'changed-by-caller';
    for (let round = 1; round < 5; round++) {
      const claims = (await verifier.verifyAccessToken(token)) as Record<string, any>;
      assert.equal(claims.sub, 'user-sub-1', `round ${round}`);
      assert.deepEqual(claims['cognito:groups'], ['staff'], `round ${round}`);
      assert.ok(Object.isFrozen(claims) && Object.isFrozen(claims['cognito:groups']) && Object.isFrozen(claims.nested.roles), `round ${round}`);
      assert.throws(() => {
        claims.sub = 'changed-by-caller';
      }, TypeError);
      assert.throws(() => claims['cognito:groups'].push('admin'), TypeError);
      assert.throws(() => {
        claims['cognito:groups'][0] = 'admin';
      }, TypeError);
      assert.throws(() => claims.nested.roles.push('root'), TypeError);
      assert.throws(() => {
        delete claims.token_use;
      }, TypeError);
    }
  });

  it('keeps no verified token with verifiedTokenCacheSize: 0 (nothing shared, so nothing frozen)', async () => {
    const uncached = (await compileCognito({ issuer: jwks.issuer, verifiedTokenCacheSize: 0 })).get(JwksVerifierService);
    const token = await mint(key, jwks.issuer, 'access', { jti: 'uncached' });
    for (let round = 0; round < 4; round++) assert.equal(Object.isFrozen(await uncached.verifyAccessToken(token)), false, `round ${round}`);
    assert.equal(uncached.verifyKnown(token, 'access'), undefined, 'the fast path never knows it');
    // The control: with the default size, the second sighting is cached.
    const cached = (await compileCognito({ issuer: jwks.issuer })).get(JwksVerifierService);
    await cached.verifyAccessToken(token);
    await cached.verifyAccessToken(token);
    assert.equal(Object.isFrozen(cached.verifyKnown(token, 'access')), true);
  });

  it('accepts a token whose iat is within the clock tolerance', async () => {
    const claims = await verifier.verifyIdToken(await mint(key, jwks.issuer, 'id', { iat: now() + 2 }));
    assert.equal(claims.sub, 'user-sub-1');
  });

  it('picks up a key that appears in the JWKS without a restart (rotation)', async () => {
    const rotated = makeKey('key-2');
    const token = await mint(rotated, jwks.issuer, 'id');
    await assert.rejects(verifier.verifyIdToken(token), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    jwks.setKeys([key.jwk, rotated.jwk]);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the cooldown (at least 1 s) since that refetch
    const claims = await verifier.verifyIdToken(token);
    assert.equal(claims.sub, 'user-sub-1');
  });
});

describe('JwksVerifierService key set fetching', () => {
  it('refetches for an unknown kid at most once per cooldown, and concurrent misses share one fetch', async () => {
    const key = makeKey('k1');
    const jwks = await startJwksServer([key]);
    try {
      const verifier = (await compileCognito({ issuer: jwks.issuer, jwksCooldownSeconds: 600 })).get(JwksVerifierService);
      await verifier.verifyIdToken(await mint(key, jwks.issuer, 'id'));
      assert.equal(jwks.requests.length, 1);
      const stranger = await mint(makeKey('k-unknown'), jwks.issuer, 'id');
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => verifier.verifyIdToken(stranger)));
      assert.ok(results.every((result) => result.status === 'rejected' && (result.reason as CognitoError).code === 'ERR_JWKS_NO_MATCHING_KEY'));
      assert.equal(jwks.requests.length, 1, 'within the cooldown, unknown kids must not refetch');
    } finally {
      await jwks.close();
    }
  });

  it('refetches the key set once jwksCacheTimeout has passed', async () => {
    const key = makeKey('k1');
    const jwks = await startJwksServer([key]);
    try {
      const verifier = (await compileCognito({ issuer: jwks.issuer, jwksCacheTimeout: 1 })).get(JwksVerifierService);
      await verifier.verifyAccessToken(await mint(key, jwks.issuer, 'access', { jti: 'a' }));
      await verifier.verifyAccessToken(await mint(key, jwks.issuer, 'access', { jti: 'b' }));
      assert.equal(jwks.requests.length, 1, 'within jwksCacheTimeout the keys are reused');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await verifier.verifyAccessToken(await mint(key, jwks.issuer, 'access', { jti: 'c' }));
      assert.equal(jwks.requests.length, 2);
    } finally {
      await jwks.close();
    }
  });

  it('sends a JWKS GET again once when the connection drops (a keep-alive race), and only once', async () => {
    const key = makeKey('k1');
    for (const [drops, accepted] of [[1, true], [2, false]] as const) {
      let dropped = 0;
      const server = await startServer((_req, res) => {
        if (dropped < drops) {
          dropped++;
          res.socket?.destroy();
          return;
        }
        json(res, 200, { keys: [key.jwk] });
      });
      try {
        const issuer = `${server.url}/eu-west-2_TestPool1`;
        const verifier = (await compileCognito({ issuer })).get(JwksVerifierService);
        const outcome = await verifier.verifyAccessToken(await mint(key, issuer, 'access')).then(
          () => 'accepted',
          (error: CognitoError) => error.code,
        );
        assert.equal(outcome, accepted ? 'accepted' : 'ERR_JWKS_UNAVAILABLE');
        assert.equal(server.requests.length, 2, 'one retry at most');
      } finally {
        await server.close();
      }
    }
  });

  const unusable: { name: string; respond: Parameters<typeof startServer>[0] }[] = [
    { name: 'HTTP 500', respond: (_req, res) => json(res, 500, { message: 'boom' }) },
    { name: 'a body that is not JSON', respond: (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>') },
    { name: 'no keys array', respond: (_req, res) => json(res, 200, { nope: [] }) },
    { name: 'only an HMAC key', respond: (_req, res) => json(res, 200, { keys: [{ kty: 'oct', kid: 'k1', k: 'c2VjcmV0' }] }) },
    { name: 'only an encryption key', respond: (_req, res) => json(res, 200, { keys: [{ ...makeKey('k1').jwk, use: 'enc' }] }) },
    { name: 'only a 1024-bit key', respond: (_req, res) => json(res, 200, { keys: [makeKey('k1', 1024).jwk] }) },
    { name: 'a redirect', respond: (_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end() },
    { name: 'no answer within the timeout', respond: () => undefined },
  ];
  for (const { name, respond } of unusable) {
    it(`reports JwksUnavailableError when the JWKS endpoint gives ${name}`, async () => {
      const server = await startServer(respond);
      try {
        const verifier = (await compileCognito({ issuer: `${server.url}/${'eu-west-2_TestPool1'}`, httpTimeoutMs: 300 })).get(JwksVerifierService);
        const token = await mint(makeKey('k1'), `${server.url}/eu-west-2_TestPool1`, 'id');
        const error = await verifier.verifyIdToken(token).catch((caught: unknown) => caught);
        assert.ok(error instanceof JwksUnavailableError, String(error));
        assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE');
      } finally {
        await server.close();
      }
    });
  }

  it('reports JwksUnavailableError when nothing listens at the JWKS URL', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}/eu-west-2_TestPool1`;
    const verifier = (await compileCognito({ issuer })).get(JwksVerifierService);
    await assert.rejects(verifier.verifyIdToken(await mint(makeKey('k1'), issuer, 'id')), { code: 'ERR_JWKS_UNAVAILABLE' });
  });
});

describe('JwksVerifierService with several app clients and user pools', () => {
  it("accepts the allow-listed pools' tokens for their own clients, each with its own keys, and nothing else", async () => {
    const mainKey = makeKey('main');
    const staffKey = makeKey('staff');
    const main = await startJwksServer([mainKey]);
    const staff = await startJwksServer([staffKey]);
    const staffIssuer = staff.issuer.replace('eu-west-2_TestPool1', 'eu-west-2_StaffPool1');
    try {
      const verifier = (
        await compileCognito({
          issuer: main.issuer,
          additionalClientIds: ['mobileclient'],
          additionalUserPools: [{ userPoolId: 'eu-west-2_StaffPool1', issuer: staffIssuer, jwksUri: staff.jwksUri, clientIds: ['backoffice'] }],
        })
      ).get(JwksVerifierService);
      assert.equal((await verifier.verifyAccessToken(await mint(mainKey, main.issuer, 'access'))).client_id, CLIENT_ID);
      assert.equal((await verifier.verifyAccessToken(await mint(mainKey, main.issuer, 'access', { client_id: 'mobileclient' }))).client_id, 'mobileclient');
      assert.equal((await verifier.verifyIdToken(await mint(staffKey, staffIssuer, 'id', { aud: 'backoffice' }))).aud, 'backoffice');

      // A staff-pool client is not a main-pool client, and the other way round.
      await assert.rejects(verifier.verifyAccessToken(await mint(mainKey, main.issuer, 'access', { client_id: 'backoffice' })), { claim: 'client_id' });
      await assert.rejects(verifier.verifyAccessToken(await mint(staffKey, staffIssuer, 'access')), { claim: 'client_id' });
      // Each pool's tokens are checked with that pool's keys only.
      await assert.rejects(verifier.verifyAccessToken(await mint({ ...mainKey, kid: 'staff' }, staffIssuer, 'access', { client_id: 'backoffice' })), { code: 'ERR_JWT_SIGNATURE_INVALID' });
      // A pool outside the allow-list is refused before any key is fetched.
      const before = main.requests.length + staff.requests.length;
      await assert.rejects(verifier.verifyAccessToken(await mint(mainKey, `${main.url}/eu-west-2_Unlisted1`, 'access')), { claim: 'iss' });
      assert.equal(main.requests.length + staff.requests.length, before);
    } finally {
      await main.close();
      await staff.close();
    }
  });
});

describe('regressions found by fuzzing', () => {
  it('rejects a valid token whose last signature character is spelled differently with the same bits (seed -283331483)', async () => {
    const key = makeKey('k1');
    const jwks = await startJwksServer([key]);
    try {
      const verifier = (await compileCognito({ issuer: jwks.issuer })).get(JwksVerifierService);
      const token = await mint(key, jwks.issuer, 'access');
      await verifier.verifyAccessToken(token);
      // 342 characters hold 2,048 bits: the last one has 4 unused bits, so 16 spellings decode alike.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(token.at(-1)!);
      const twin = `${token.slice(0, -1)}${alphabet[(last & ~0x0f) | ((last + 1) & 0x0f)]}`;
      assert.notEqual(twin, token);
      assert.deepEqual(Buffer.from(twin.split('.')[2], 'base64url'), Buffer.from(token.split('.')[2], 'base64url'));
      await assert.rejects(verifier.verifyAccessToken(twin), { code: 'ERR_JWT_MALFORMED' });
    } finally {
      await jwks.close();
    }
  });
});
