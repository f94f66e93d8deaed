import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CognitoError, JwksVerifierService } from '../lib/index.js';
import { compileCognito } from './support/module.js';
import { json, startServer, type ScriptedServer } from './support/servers.js';
import { b64url, CLIENT_ID, makeKey, mint, signRaw, startJwksServer, type JwksServer, type SigningKey } from './support/tokens.js';

const now = () => Math.floor(Date.now() / 1000);

async function rejection(promise: Promise<unknown>): Promise<CognitoError> {
  const error = await promise.then(
    () => assert.fail('the token was accepted'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof CognitoError, `expected a typed CognitoError, got ${String(error)}`);
  return error;
}

describe('verifier attack table', () => {
  let key: SigningKey;
  let attacker: SigningKey;
  let jwks: JwksServer;
  let attackerServer: ScriptedServer;
  let verifier: JwksVerifierService;

  before(async () => {
    key = makeKey('key-1');
    attacker = makeKey('attacker-key');
    jwks = await startJwksServer([key]);
    attackerServer = await startServer((_req, res) => json(res, 200, { keys: [attacker.jwk] }));
    verifier = (await compileCognito({ issuer: jwks.issuer, jwksCooldownSeconds: 600 })).get(JwksVerifierService);
    await verifier.verifyAccessToken(await mint(key, jwks.issuer, 'access'));
  });
  after(async () => {
    await jwks.close();
    await attackerServer.close();
  });

  const payloadOf = async (claims: Record<string, unknown> = {}, use: 'id' | 'access' = 'access') =>
    JSON.parse(Buffer.from((await mint(key, jwks.issuer, use, claims)).split('.')[1], 'base64url').toString());

  const attacks: { name: string; token: () => Promise<string>; code: string; use?: 'id' | 'access' }[] = [
    { name: 'alg none', token: async () => `${b64url({ alg: 'none', kid: 'key-1' })}.${b64url(await payloadOf())}.`, code: 'ERR_JWT_MALFORMED' },
    {
      name: 'HS256 keyed with the RSA public key',
      token: async () => {
        const { createHmac, createPublicKey } = await import('node:crypto');
        const secret = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' });
        const input = `${b64url({ alg: 'HS256', kid: 'key-1' })}.${b64url(await payloadOf())}`;
        return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      },
      code: 'ERR_JWT_ALG_NOT_ALLOWED',
    },
    { name: 'jku pointing at the attacker', token: async () => signRaw(attacker, { alg: 'RS256', kid: 'key-1', jku: `${attackerServer.url}/jwks.json` }, await payloadOf()), code: 'ERR_JWT_SIGNATURE_INVALID' },
    { name: 'x5u pointing at the attacker', token: async () => signRaw(attacker, { alg: 'RS256', kid: 'key-1', x5u: `${attackerServer.url}/cert.pem` }, await payloadOf()), code: 'ERR_JWT_SIGNATURE_INVALID' },
    { name: 'an embedded jwk', token: async () => signRaw(attacker, { alg: 'RS256', kid: 'key-1', jwk: attacker.jwk }, await payloadOf()), code: 'ERR_JWT_SIGNATURE_INVALID' },
    { name: 'the attacker kid with an embedded jwk', token: async () => signRaw(attacker, { alg: 'RS256', kid: 'attacker-key', jwk: attacker.jwk }, await payloadOf()), code: 'ERR_JWKS_NO_MATCHING_KEY' },
    { name: 'a kid with path traversal', token: async () => signRaw(key, { alg: 'RS256', kid: '../../../../etc/passwd' }, await payloadOf()), code: 'ERR_JWKS_NO_MATCHING_KEY' },
    { name: 'a 10 KB kid', token: async () => signRaw(key, { alg: 'RS256', kid: 'k'.repeat(10_240) }, await payloadOf()), code: 'ERR_JWKS_NO_MATCHING_KEY' },
    { name: 'an unknown crit', token: async () => signRaw(key, { alg: 'RS256', kid: 'key-1', crit: ['b64'], b64: false }, await payloadOf()), code: 'ERR_JWT_MALFORMED' },
    { name: 'a token over the size cap', token: async () => signRaw(key, { alg: 'RS256', kid: 'key-1' }, await payloadOf({ padding: 'x'.repeat(70_000) })), code: 'ERR_JWT_MALFORMED' },
    { name: 'no exp', token: async () => mint(key, jwks.issuer, 'access', { exp: undefined }), code: 'ERR_JWT_CLAIM_INVALID' },
    { name: 'iat far in the future', token: async () => mint(key, jwks.issuer, 'access', { iat: now() + 86_400 * 365, exp: now() + 86_400 * 366 }), code: 'ERR_JWT_CLAIM_INVALID' },
    { name: 'an ID token used as access token', token: async () => mint(key, jwks.issuer, 'id', { client_id: CLIENT_ID }), code: 'ERR_JWT_CLAIM_INVALID' },
    { name: 'an access token used as ID token', use: 'id', token: async () => mint(key, jwks.issuer, 'access', { aud: CLIENT_ID }), code: 'ERR_JWT_CLAIM_INVALID' },
    { name: "another pool's issuer, signed by this pool's key", token: async () => mint(key, jwks.issuer, 'access', { iss: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other' }), code: 'ERR_JWT_CLAIM_INVALID' },
    { name: 'an issuer URL under the attacker', token: async () => signRaw(attacker, { alg: 'RS256', kid: 'attacker-key' }, await payloadOf({ iss: `${attackerServer.url}/eu-west-2_TestPool1` })), code: 'ERR_JWT_CLAIM_INVALID' },
  ];

  for (const attack of attacks) {
    it(`rejects ${attack.name} (${attack.code}) without contacting any other server`, async () => {
      const jwksRequests = jwks.requests.length;
      const attackerRequests = attackerServer.requests.length;
      const error = await rejection(verifier.verify(await attack.token(), { tokenUse: attack.use ?? 'access' }));
      assert.equal(error.code, attack.code, error.message);
      assert.equal(attackerServer.requests.length, attackerRequests, 'the attacker server was contacted');
      assert.equal(jwks.requests.length, jwksRequests, 'within the cooldown the JWKS is not refetched');
    });
  }

  it('stops accepting tokens of a key removed from the JWKS after the next refresh, cached ones included', async () => {
    const stay = makeKey('stays');
    const leaving = makeKey('leaves');
    const server = await startJwksServer([stay, leaving]);
    try {
      const short = (await compileCognito({ issuer: server.issuer, jwksCacheTimeout: 1, jwksCooldownSeconds: 1 })).get(JwksVerifierService);
      const token = await mint(leaving, server.issuer, 'access');
      for (let i = 0; i < 3; i++) await short.verifyAccessToken(token); // now in the verified-token cache
      server.setKeys([stay.jwk]);
      await sleep(1100);
      assert.equal((await rejection(short.verifyAccessToken(token))).code, 'ERR_JWKS_NO_MATCHING_KEY');
      await short.verifyAccessToken(await mint(stay, server.issuer, 'access'));
    } finally {
      await server.close();
    }
  });
});

describe('JWKS fault injection', () => {
  const configure = (server: { url: string }, overrides: Record<string, unknown> = {}) =>
    compileCognito({ issuer: `${server.url}/eu-west-2_TestPool1`, jwksCooldownSeconds: 1, httpTimeoutMs: 500, ...overrides }).then((m) => m.get(JwksVerifierService));
  const issuerOf = (server: { url: string }) => `${server.url}/eu-west-2_TestPool1`;

  /** A JWKS endpoint that a test switches off (HTTP 500) and on. */
  async function switchableJwks(key: SigningKey, up: boolean) {
    const state = { up };
    const server = await startServer((_req, res) => {
      if (state.up) json(res, 200, { keys: [key.jwk] });
      else res.writeHead(500).end('down');
    });
    return { server, issuer: issuerOf(server), state };
  }

  it('recovers when the JWKS is down at startup and comes up later', async () => {
    const key = makeKey('k1');
    const { server, issuer, state } = await switchableJwks(key, false);
    try {
      const verifier = await configure(server);
      verifier.onApplicationBootstrap(); // the prefetch fails and only logs; the verification joins it
      assert.equal((await rejection(verifier.verifyAccessToken(await mint(key, issuer, 'access')))).code, 'ERR_JWKS_UNAVAILABLE');
      state.up = true;
      await sleep(1100); // past the one-second failure back-off
      await verifier.verifyAccessToken(await mint(key, issuer, 'access'));
    } finally {
      await server.close();
    }
  });

  for (const staleSeconds of [2, 0]) {
    it(`after the cache lifetime, with jwksStaleSeconds=${staleSeconds}, ${staleSeconds ? 'serves cached keys while the JWKS is down, then refuses' : 'refuses at once'}`, async () => {
      const key = makeKey('k1');
      const { server, issuer, state } = await switchableJwks(key, true);
      try {
        const verifier = await configure(server, { jwksCacheTimeout: 1, jwksStaleSeconds: staleSeconds });
        await verifier.verifyAccessToken(await mint(key, issuer, 'access'));
        state.up = false;
        await sleep(1200);
        const second = verifier.verifyAccessToken(await mint(key, issuer, 'access', { jti: 'during' }));
        if (staleSeconds === 0) {
          assert.equal((await rejection(second)).code, 'ERR_JWKS_UNAVAILABLE');
          return;
        }
        await second;
        await sleep(staleSeconds * 1000 + 200);
        assert.equal((await rejection(verifier.verifyAccessToken(await mint(key, issuer, 'access', { jti: 'after' })))).code, 'ERR_JWKS_UNAVAILABLE');
      } finally {
        await server.close();
      }
    });
  }

  const faults: [string, Parameters<typeof startServer>[0]][] = [
    ['slow (past the timeout)', (_req, res) => void setTimeout(() => json(res, 200, { keys: [] }), 2000)],
    [
      'a 50 MB body',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 50 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      },
    ],
    ['invalid JSON', (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [')],
    ['an HTML error page', (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Service Unavailable</body></html>')],
    ['a redirect', (_req, res) => void res.writeHead(301, { location: 'https://example.com/jwks.json' }).end()],
  ];
  for (const [name, respond] of faults) {
    it(`reports ERR_JWKS_UNAVAILABLE, promptly, for ${name}`, async () => {
      const server = await startServer(respond);
      try {
        const verifier = await configure(server);
        const started = Date.now();
        assert.equal((await rejection(verifier.verifyAccessToken(await mint(makeKey('k1'), issuerOf(server), 'access')))).code, 'ERR_JWKS_UNAVAILABLE');
        assert.ok(Date.now() - started < 1500, 'bounded by the HTTP timeout');
      } finally {
        await server.close();
      }
    });
  }

  it('picks up a key rotation in the middle of traffic without failing a valid token', async () => {
    const oldKey = makeKey('old');
    const newKey = makeKey('new');
    const server = await startJwksServer([oldKey]);
    try {
      const verifier = (await compileCognito({ issuer: server.issuer, jwksCooldownSeconds: 1 })).get(JwksVerifierService);
      const traffic = async (signing: SigningKey, count: number) => {
        const tokens = await Promise.all(Array.from({ length: count }, (_, i) => mint(signing, server.issuer, 'access', { jti: `${signing.kid}-${i}` })));
        await Promise.all(tokens.map((token) => verifier.verifyAccessToken(token)));
      };
      await traffic(oldKey, 50);
      await sleep(1100); // the cooldown since the last fetch: jwksCooldownSeconds is at least 1
      server.setKeys([oldKey.jwk, newKey.jwk]);
      await Promise.all([traffic(oldKey, 50), traffic(newKey, 50)]);
    } finally {
      await server.close();
    }
  });

  it('makes exactly one JWKS request for 1,000 concurrent verifications on a cold cache', async () => {
    const key = makeKey('k1');
    const server = await startJwksServer([key]);
    try {
      const verifier = (await compileCognito({ issuer: server.issuer })).get(JwksVerifierService);
      const token = await mint(key, server.issuer, 'access');
      await Promise.all(Array.from({ length: 1000 }, () => verifier.verifyAccessToken(token)));
      assert.equal(server.requests.length, 1);
    } finally {
      await server.close();
    }
  });

  it('makes at most one refetch per cooldown for 10,000 tokens with random unknown kids in one second', async () => {
    const key = makeKey('k1');
    const server = await startJwksServer([key]);
    try {
      const verifier = (await compileCognito({ issuer: server.issuer, jwksCooldownSeconds: 30 })).get(JwksVerifierService);
      await verifier.verifyAccessToken(await mint(key, server.issuer, 'access'));
      const payload = b64url({ sub: 's', iss: server.issuer, client_id: CLIENT_ID, token_use: 'access', iat: now(), exp: now() + 60 });
      const started = Date.now();
      const results = await Promise.allSettled(
        Array.from({ length: 10_000 }, (_, i) => verifier.verifyAccessToken(`${b64url({ alg: 'RS256', kid: `random-${i}-${Math.random().toString(36).slice(2)}` })}.${payload}.AAAA`)),
      );
      assert.ok(Date.now() - started < 5000);
      assert.ok(results.every((result) => result.status === 'rejected' && (result.reason as CognitoError).code === 'ERR_JWKS_NO_MATCHING_KEY'));
      assert.equal(server.requests.length, 1, 'the first fetch only: all unknown kids fall within the cooldown');
    } finally {
      await server.close();
    }
  });
});
