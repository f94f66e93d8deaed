// Direct tests of JwksVerifierService's header, time and claim checks, on a frozen clock (a
// whole second, so every boundary is exact) against a JWKS server on 127.0.0.1.
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import type { TestingModule } from '@nestjs/testing';
import { JwksVerifierService } from '../../lib/index.js';
import { compileCognito } from '../support/module.js';
import { b64url, CLIENT_ID, makeKey, mint, signRaw, startJwksServer, type JwksServer, type SigningKey } from '../support/tokens.js';

describe('JwksVerifierService checks', () => {
  let key: SigningKey;
  let jwks: JwksServer;
  let moduleRef: TestingModule;
  let verifier: JwksVerifierService;
  let now: number;

  before(async () => {
    key = makeKey('claims-key');
    jwks = await startJwksServer([key]);
    moduleRef = await compileCognito({ issuer: jwks.issuer, clockToleranceSeconds: 5 });
    verifier = moduleRef.get(JwksVerifierService);
  });
  after(async () => {
    await moduleRef.close();
    await jwks.close();
  });
  beforeEach(() => {
    now = Math.floor(Date.now() / 1000);
  });

  const freeze = (t: TestContext) => t.mock.method(Date, 'now', () => now * 1000);
  const idToken = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => mint(key, jwks.issuer, 'id', { iat: now, exp: now + 600, ...claims }, header);
  const accessToken = (claims: Record<string, unknown> = {}) => mint(key, jwks.issuer, 'access', { iat: now, exp: now + 600, ...claims });

  async function refused(token: Promise<string> | string, use: 'id' | 'access', code: string, message: string, options: { nonce?: string } = {}) {
    const value = await token;
    const attempt = use === 'id' ? verifier.verifyIdToken(value, options) : verifier.verifyAccessToken(value);
    await assert.rejects(attempt, (error: unknown) => {
      const { code: actual, message: text } = error as { code: string; message: string };
      assert.equal(actual, code);
      assert.equal(text, message);
      return true;
    });
  }
  const claim = (name: string, problem: string) => `The token's "${name}" claim ${problem}`;

  it('accepts tokens exactly inside every time boundary', async (t) => {
    freeze(t);
    // exp is still good 4 s after it passed (5 s tolerance); iat and nbf up to 5 s ahead.
    assert.equal((await verifier.verifyIdToken(await idToken({ exp: now - 4, iat: now + 5, nbf: now + 5 }))).sub, 'user-sub-1');
    assert.equal((await verifier.verifyAccessToken(await accessToken({ exp: now - 4, iat: now + 5 }))).sub, 'user-sub-1');
  });

  const cases: [label: string, use: 'id' | 'access', token: () => Promise<string> | string, code: string, message: string][] = [
    ['expired, at the tolerance', 'id', () => idToken({ exp: now - 5 }), 'ERR_JWT_EXPIRED', 'The token has expired'],
    ['without exp', 'id', () => idToken({ exp: undefined }), 'ERR_JWT_CLAIM_INVALID', claim('exp', 'is missing or not a number')],
    ['with exp as a string', 'access', () => accessToken({ exp: String(now + 600) }), 'ERR_JWT_CLAIM_INVALID', claim('exp', 'is missing or not a number')],
    ['not valid yet, past the tolerance', 'id', () => idToken({ nbf: now + 6 }), 'ERR_JWT_NOT_YET_VALID', 'The token is not valid yet'],
    ['with nbf as a string', 'id', () => idToken({ nbf: String(now) }), 'ERR_JWT_CLAIM_INVALID', claim('nbf', 'is not a number')],
    ['without iat', 'id', () => idToken({ iat: undefined }), 'ERR_JWT_CLAIM_INVALID', claim('iat', 'is missing or not a number')],
    ['with iat as a string', 'access', () => accessToken({ iat: String(now) }), 'ERR_JWT_CLAIM_INVALID', claim('iat', 'is missing or not a number')],
    ['issued in the future, past the tolerance', 'id', () => idToken({ iat: now + 6 }), 'ERR_JWT_CLAIM_INVALID', claim('iat', 'is in the future')],
    ['without sub', 'id', () => idToken({ sub: undefined }), 'ERR_JWT_CLAIM_INVALID', claim('sub', 'is missing')],
    ['with an empty sub', 'access', () => accessToken({ sub: '' }), 'ERR_JWT_CLAIM_INVALID', claim('sub', 'is missing')],
    ['with a numeric sub', 'access', () => accessToken({ sub: 7 }), 'ERR_JWT_CLAIM_INVALID', claim('sub', 'is missing')],
    ['an access token used as an ID token', 'id', () => accessToken(), 'ERR_JWT_CLAIM_INVALID', claim('token_use', 'is not "id"')],
    ['an ID token used as an access token', 'access', () => idToken(), 'ERR_JWT_CLAIM_INVALID', claim('token_use', 'is not "access"')],
    ['for another client (aud)', 'id', () => idToken({ aud: 'other-client' }), 'ERR_JWT_CLAIM_INVALID', claim('aud', 'is not this app client')],
    ['without aud', 'id', () => idToken({ aud: undefined }), 'ERR_JWT_CLAIM_INVALID', claim('aud', 'is not this app client')],
    ['with an empty aud list', 'id', () => idToken({ aud: [] }), 'ERR_JWT_CLAIM_INVALID', claim('aud', 'is not this app client')],
    ['with a number in aud', 'id', () => idToken({ aud: [CLIENT_ID, 7], azp: CLIENT_ID }), 'ERR_JWT_CLAIM_INVALID', claim('aud', 'is not this app client')],
    ['with aud as an object', 'id', () => idToken({ aud: { 0: CLIENT_ID } }), 'ERR_JWT_CLAIM_INVALID', claim('aud', 'is not this app client')],
    ['with several audiences and no azp', 'id', () => idToken({ aud: [CLIENT_ID, 'other'] }), 'ERR_JWT_CLAIM_INVALID', claim('azp', 'is missing, though "aud" lists several audiences')],
    ['with azp for another client', 'id', () => idToken({ aud: [CLIENT_ID, 'other'], azp: 'other' }), 'ERR_JWT_CLAIM_INVALID', claim('azp', 'is not this app client')],
    ['with a numeric azp', 'id', () => idToken({ azp: 1 }), 'ERR_JWT_CLAIM_INVALID', claim('azp', 'is not this app client')],
    ['for another client (client_id)', 'access', () => accessToken({ client_id: 'other-client' }), 'ERR_JWT_CLAIM_INVALID', claim('client_id', 'is not this app client')],
    ['without client_id', 'access', () => accessToken({ client_id: undefined }), 'ERR_JWT_CLAIM_INVALID', claim('client_id', 'is not this app client')],
    ['from another issuer', 'access', () => mint(key, 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other', 'access'), 'ERR_JWT_CLAIM_INVALID', claim('iss', `does not match the user pool (expected "{issuer}", received "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other")`)],
    ['without iss', 'access', () => accessToken({ iss: undefined }), 'ERR_JWT_CLAIM_INVALID', claim('iss', `does not match the user pool (expected "{issuer}", received none)`)],
    ['signed with HS256', 'access', () => `${b64url({ alg: 'HS256', kid: key.kid })}.${b64url({ iss: jwks.issuer })}.AAAA`, 'ERR_JWT_ALG_NOT_ALLOWED', 'Only RS256-signed tokens are accepted'],
    ['with a crit header', 'id', () => signRaw(key, { alg: 'RS256', kid: key.kid, crit: ['x'] }, { iss: jwks.issuer }), 'ERR_JWT_MALFORMED', 'Malformed token: unsupported "crit" header'],
    ['without kid', 'id', () => signRaw(key, { alg: 'RS256' }, { iss: jwks.issuer }), 'ERR_JWT_MALFORMED', 'Malformed token: the header has no "kid"'],
    ['with a numeric kid', 'id', () => signRaw(key, { alg: 'RS256', kid: 1 }, { iss: jwks.issuer }), 'ERR_JWT_MALFORMED', 'Malformed token: the header has no "kid"'],
  ];
  for (const [label, use, token, code, message] of cases) {
    it(`refuses a token ${label} (${code})`, async (t) => {
      freeze(t);
      await refused(token(), use, code, message.replace('{issuer}', jwks.issuer)); // the issuer is known once the JWKS server runs
    });
  }

  it('accepts several audiences with azp naming this client, and an aud list of one', async (t) => {
    freeze(t);
    assert.equal((await verifier.verifyIdToken(await idToken({ aud: ['other', CLIENT_ID], azp: CLIENT_ID }))).sub, 'user-sub-1');
    assert.equal((await verifier.verifyIdToken(await idToken({ aud: [CLIENT_ID] }))).sub, 'user-sub-1');
    assert.equal((await verifier.verifyIdToken(await idToken({ azp: CLIENT_ID }))).sub, 'user-sub-1');
  });

  it('checks the nonce only when one is given, and exactly', async (t) => {
    freeze(t);
    const token = await idToken({ nonce: 'the-nonce' });
    assert.equal((await verifier.verifyIdToken(token)).nonce, 'the-nonce');
    assert.equal((await verifier.verifyIdToken(token, { nonce: 'the-nonce' })).nonce, 'the-nonce');
    await refused(token, 'id', 'ERR_JWT_CLAIM_INVALID', claim('nonce', 'does not match the login'), { nonce: 'the-nonc' });
    await refused(idToken(), 'id', 'ERR_JWT_CLAIM_INVALID', claim('nonce', 'does not match the login'), { nonce: 'the-nonce' });
  });

  it('refuses a bad signature, and one of the wrong length', async (t) => {
    freeze(t);
    const token = await accessToken();
    const [header, payload, signature] = token.split('.');
    const other = createSign('RSA-SHA256').update('something else').sign(key.privateKey).toString('base64url');
    await refused(`${header}.${payload}.${other}`, 'access', 'ERR_JWT_SIGNATURE_INVALID', 'The token signature is invalid');
    await refused(`${header}.${payload}.${signature.slice(0, 40)}`, 'access', 'ERR_JWT_SIGNATURE_INVALID', 'The token signature is invalid');
  });

  it('refuses a tokenUse other than id or access', async () => {
    await assert.rejects(verifier.verify(await accessToken(), { tokenUse: 'refresh' as 'id' }), { name: 'TypeError', message: 'verify(): tokenUse must be "id" or "access"' });
  });

  it('checks the claims of a remembered token again on every use', async (t) => {
    freeze(t);
    const token = await accessToken();
    await verifier.verifyAccessToken(token);
    await verifier.verifyAccessToken(token);
    assert.equal(verifier.verifyKnown(token, 'access')?.sub, 'user-sub-1');
    await refused(token, 'id', 'ERR_JWT_CLAIM_INVALID', claim('token_use', 'is not "id"'));
    assert.throws(() => verifier.verifyKnown(token, 'id'), { code: 'ERR_JWT_CLAIM_INVALID' });
    now += 606; // past exp and the tolerance
    await refused(token, 'access', 'ERR_JWT_EXPIRED', 'The token has expired');
    assert.equal(verifier.verifyKnown(token, 'access'), undefined, 'no longer remembered');
  });

  it('answers verifyKnown only for tokens it has verified, and not for anything else', async (t) => {
    freeze(t);
    assert.equal(verifier.verifyKnown(await accessToken({ jti: 'never-seen' }), 'access'), undefined);
    assert.equal(verifier.verifyKnown(42 as unknown as string, 'access'), undefined);
  });

  it('remembers a long-lived token for a day at most', async (t) => {
    freeze(t);
    const longLived = await compileCognito({ issuer: jwks.issuer, jwksCacheTimeout: 7 * 24 * 3600 });
    try {
      const other = longLived.get(JwksVerifierService);
      const token = await accessToken({ exp: now + 3 * 24 * 3600, jti: 'long' });
      await other.verifyAccessToken(token);
      await other.verifyAccessToken(token);
      now += 24 * 3600 - 1;
      assert.equal(other.verifyKnown(token, 'access')?.jti, 'long');
      now += 1;
      assert.equal(other.verifyKnown(token, 'access'), undefined);
    } finally {
      await longLived.close();
    }
  });

  it('forgets a remembered token once it expires beyond the tolerance, not before', async (t) => {
    freeze(t);
    const token = await accessToken({ exp: now + 10, jti: 'short' });
    await verifier.verifyAccessToken(token);
    await verifier.verifyAccessToken(token);
    now += 10 + 5 - 1;
    assert.equal(verifier.verifyKnown(token, 'access')?.jti, 'short', 'still within the tolerance');
    now += 1;
    assert.equal(verifier.verifyKnown(token, 'access'), undefined, 'forgotten at exp + tolerance');
  });
});
