import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { CognitoError, JwksVerifierService } from '../lib/index.js';
import { compileCognito } from './support/module.js';
import { CLIENT_ID, makeKey, mint, POOL_ID, signRaw, startJwksServer, type JwksServer, type SigningKey } from './support/tokens.js';

/** Real Cognito's issuer form, so aws-jwt-verify can take part; keys come from a local server. */
const ISSUER = `https://cognito-idp.eu-west-2.amazonaws.com/${POOL_ID}`;
const TOLERANCE = 5;
const now = () => Math.floor(Date.now() / 1000);

/** Every input ends in acceptance or a typed CognitoError, within a bound (a hang guard, not a speed test). */
async function outcome(verifier: JwksVerifierService, token: string, tokenUse: 'id' | 'access' = 'access'): Promise<'accepted' | CognitoError> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('verification took over 2 s')), 2000)));
  try {
    await Promise.race([verifier.verify(token, { tokenUse }), hang]);
    return 'accepted';
  } catch (error) {
    assert.ok(error instanceof CognitoError, `untyped error ${String(error)} for ${JSON.stringify(token.slice(0, 80))}`);
    return error;
  } finally {
    clearTimeout(timer);
  }
}

describe('verifier fuzzing (fast-check)', () => {
  let key: SigningKey;
  let jwks: JwksServer;
  let verifier: JwksVerifierService;

  before(async () => {
    key = makeKey('fuzz-key');
    jwks = await startJwksServer([key]);
    verifier = (await compileCognito({ issuer: ISSUER, jwksUri: jwks.jwksUri, clockToleranceSeconds: TOLERANCE, jwksCooldownSeconds: 600 })).get(JwksVerifierService);
  });
  after(() => jwks.close());

  it('rejects arbitrary strings with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[A-Za-z0-9_.-]{0,400}$/)), async (input) => {
        assert.notEqual(await outcome(verifier, input), 'accepted');
      }),
      { numRuns: 400 },
    );
  });

  it('accepts a really signed token exactly when its header and claims are valid', async () => {
    const claimValue = (valid: unknown) => fc.oneof({ weight: 3, arbitrary: fc.constant(valid) }, fc.constant(undefined), fc.jsonValue());
    const header = fc.record({
      alg: fc.oneof({ weight: 4, arbitrary: fc.constant('RS256') }, fc.constantFrom('none', 'HS256', 'RS512', 'PS256', 'rs256')),
      kid: fc.oneof({ weight: 4, arbitrary: fc.constant('fuzz-key') }, fc.string()),
      crit: fc.option(fc.array(fc.string()), { nil: undefined, freq: 8 }),
    });
    const time = (offset: number) => fc.oneof({ weight: 3, arbitrary: fc.constant(offset) }, fc.integer({ min: -7200, max: 7200 }));
    const payload = fc.record({
      iss: claimValue(ISSUER),
      sub: claimValue('user-1'),
      client_id: claimValue(CLIENT_ID),
      token_use: claimValue('access'),
      exp: fc.oneof({ weight: 4, arbitrary: time(3600) }, fc.jsonValue()),
      iat: fc.oneof({ weight: 4, arbitrary: time(0) }, fc.jsonValue()),
      nbf: fc.option(time(-10), { nil: undefined, freq: 3 }),
      extra: fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }),
    });

    await fc.assert(
      fc.asyncProperty(header, payload, fc.boolean(), async (h, p, tamper) => {
        const t = now();
        const claims: Record<string, unknown> = { ...(p.extra ?? {}) };
        for (const [name, value] of Object.entries(p)) if (name !== 'extra' && value !== undefined) claims[name] = value;
        for (const name of ['exp', 'iat', 'nbf']) if (typeof claims[name] === 'number') claims[name] = t + (claims[name] as number);
        const headerObject = Object.fromEntries(Object.entries(h).filter(([, value]) => value !== undefined));
        let token = signRaw(key, headerObject, claims);
        if (tamper) token = `${token.slice(0, -6)}${token.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;

        const valid =
          !tamper &&
          h.alg === 'RS256' &&
          h.kid === 'fuzz-key' &&
          h.crit === undefined &&
          claims.iss === ISSUER &&
          typeof claims.sub === 'string' && claims.sub.length > 0 &&
          claims.client_id === CLIENT_ID &&
          claims.token_use === 'access' &&
          typeof claims.exp === 'number' && Number.isFinite(claims.exp) && t - TOLERANCE < claims.exp - 1 &&
          typeof claims.iat === 'number' && Number.isFinite(claims.iat) && claims.iat <= t + TOLERANCE - 1 &&
          (claims.nbf === undefined || (typeof claims.nbf === 'number' && claims.nbf <= t + TOLERANCE - 1));
        const result = await outcome(verifier, token);
        if (valid) assert.equal(result, 'accepted', `a valid token was refused: ${result === 'accepted' ? '' : result.message}`);
        else assert.notEqual(result, 'accepted', `an invalid token was accepted: ${JSON.stringify({ h, claims, tamper })}`);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every mutation of a valid token', async () => {
    const original = await mint(key, ISSUER, 'access');
    assert.equal(await outcome(verifier, original), 'accepted');
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(original.length - 1), char: fc.constantFrom(...'AZaz09-_.=+/ \u0000é') }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(original.length - 1), char: fc.constant('') }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(original.length), char: fc.constantFrom(...'AZaz09-_.=+/ ') }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async ({ kind, at, char }) => {
        const mutated = kind === 'insert' ? original.slice(0, at) + char + original.slice(at) : original.slice(0, at) + char + original.slice(at + 1);
        fc.pre(mutated !== original);
        assert.notEqual(await outcome(verifier, mutated), 'accepted', `mutation ${kind} at ${at} was accepted`);
      }),
      { numRuns: 400 },
    );
  });
});

describe('differential test against aws-jwt-verify', () => {
  let key: SigningKey;
  let jwks: JwksServer;
  let ours: JwksVerifierService;
  const aws = CognitoJwtVerifier.create({ userPoolId: POOL_ID, tokenUse: null, clientId: CLIENT_ID });

  before(async () => {
    key = makeKey('diff-key');
    jwks = await startJwksServer([key]);
    // aws-jwt-verify never fetches here: it is given the key set, and verifySync only uses it.
    aws.cacheJwks({ keys: [key.jwk as never] });
    ours = (await compileCognito({ issuer: ISSUER, jwksUri: jwks.jwksUri, clockToleranceSeconds: 0, jwksCooldownSeconds: 600 })).get(JwksVerifierService);
  });
  after(() => jwks.close());

  const other = makeKey('other-key');
  type Case = { name: string; use: 'id' | 'access'; token: () => Promise<string> | string; stricter?: string };
  const corpus: Case[] = [
    { name: 'valid access token', use: 'access', token: () => mint(key, ISSUER, 'access') },
    { name: 'valid ID token', use: 'id', token: () => mint(key, ISSUER, 'id') },
    { name: 'expired', use: 'access', token: () => mint(key, ISSUER, 'access', { exp: now() - 60, iat: now() - 3600 }) },
    { name: 'nbf in the future', use: 'access', token: () => mint(key, ISSUER, 'access', { nbf: now() + 600 }) },
    { name: 'wrong issuer', use: 'access', token: () => mint(key, ISSUER, 'access', { iss: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other' }) },
    { name: 'wrong client_id', use: 'access', token: () => mint(key, ISSUER, 'access', { client_id: 'someone-else' }) },
    { name: 'wrong aud', use: 'id', token: () => mint(key, ISSUER, 'id', { aud: 'someone-else' }) },
    { name: 'token_use id as access', use: 'access', token: () => mint(key, ISSUER, 'id', { client_id: CLIENT_ID }) },
    { name: 'token_use access as id', use: 'id', token: () => mint(key, ISSUER, 'access', { aud: CLIENT_ID }) },
    { name: 'unknown kid', use: 'access', token: () => mint(other, ISSUER, 'access') },
    { name: 'signed by another key under our kid', use: 'access', token: () => mint({ ...other, kid: 'diff-key' }, ISSUER, 'access') },
    { name: 'alg none', use: 'access', token: async () => `${Buffer.from('{"alg":"none","kid":"diff-key"}').toString('base64url')}.${(await mint(key, ISSUER, 'access')).split('.')[1]}.` },
    { name: 'RS512 header', use: 'access', token: async () => signRaw(key, { alg: 'RS512', kid: 'diff-key' }, JSON.parse(Buffer.from((await mint(key, ISSUER, 'access')).split('.')[1], 'base64url').toString())) },
    { name: 'malformed', use: 'access', token: () => 'a.b.c' },
    { name: 'no exp', use: 'access', token: () => mint(key, ISSUER, 'access', { exp: undefined }), stricter: 'a token without exp never expires; AWS requires exp' },
    { name: 'iat far in the future', use: 'access', token: () => mint(key, ISSUER, 'access', { iat: now() + 86_400, exp: now() + 90_000 }), stricter: 'AWS prescribes iat checks; aws-jwt-verify does not check it' },
    { name: 'no sub', use: 'access', token: () => mint(key, ISSUER, 'access', { sub: undefined }), stricter: 'Cognito always sends sub; a token without one identifies no one' },
    {
      name: 'a valid token with its last signature character respelled (same bits)',
      use: 'access',
      token: async () => {
        const token = await mint(key, ISSUER, 'access');
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(token.at(-1)!);
        return `${token.slice(0, -1)}${alphabet[(last & ~0x0f) | ((last + 1) & 0x0f)]}`;
      },
      stricter: 'one signature, several spellings: a token string must be exactly what Cognito signed (found by our fuzzer)',
    },
    { name: 'unknown crit header', use: 'access', token: async () => signRaw(key, { alg: 'RS256', kid: 'diff-key', crit: ['x'], x: 1 }, JSON.parse(Buffer.from((await mint(key, ISSUER, 'access')).split('.')[1], 'base64url').toString())), stricter: 'RFC 7515 §4.1.11: unknown crit must be rejected' },
  ];

  for (const testCase of corpus) {
    it(`${testCase.stricter ? 'is deliberately stricter' : 'agrees'} on: ${testCase.name}`, async () => {
      const token = await testCase.token();
      const oursAccepts = (await outcome(ours, token, testCase.use)) === 'accepted';
      let awsAccepts: boolean;
      try {
        aws.verifySync(token, { tokenUse: testCase.use, clientId: CLIENT_ID });
        awsAccepts = true;
      } catch {
        awsAccepts = false;
      }
      if (testCase.stricter) {
        // A listed difference: aws-jwt-verify accepts it, we refuse it (the reason is in the case).
        assert.deepEqual({ ours: oursAccepts, aws: awsAccepts }, { ours: false, aws: true });
      } else {
        assert.equal(oursAccepts, awsAccepts, `ours ${oursAccepts ? 'accepts' : 'rejects'}, aws-jwt-verify ${awsAccepts ? 'accepts' : 'rejects'}`);
      }
    });
  }
});
