import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { HostedUiBrowser, LocalCognito, type LocalCognitoOptions } from '../lib/testing/index.js';

/**
 * The local Cognito issues tokens as Cognito does for an app client with token revocation on:
 * every ID and access token has its own `jti`; all the tokens of one sign-in, across refreshes
 * (rotated refresh tokens or not, and a restart with `dataDir`), share one `origin_jti` and the
 * sign-in time as `auth_time`; another sign-in starts another family.
 */
const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };
const CLIENT = { clientId: 'webapp', clientSecret: 'webapp-secret-value', redirectUris: [REDIRECT_URI] };
const MACHINE = { clientId: 'machine', clientSecret: 'machine-secret-value', redirectUris: [REDIRECT_URI], customScopes: ['orders/read'] };
const CLIENTS: LocalCognitoOptions['clients'] = [CLIENT, MACHINE];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface TokenSet {
  access: JWTPayload;
  id: JWTPayload;
  refreshToken: string | undefined;
}

/** Verifies a token's signature with the pool's published keys and returns its claims. */
async function verify(cognito: LocalCognito, token: string): Promise<JWTPayload> {
  const jwks = (await (await fetch(cognito.jwksUri)).json()) as JSONWebKeySet;
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: cognito.issuer, algorithms: ['RS256'] });
  return payload;
}

async function tokenRequest(cognito: LocalCognito, clientId: string, clientSecret: string, form: Record<string, string>): Promise<Record<string, string>> {
  const response = await fetch(cognito.tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = (await response.json()) as Record<string, string>;
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

async function tokenSet(cognito: LocalCognito, body: Record<string, string>): Promise<TokenSet> {
  const access = await verify(cognito, body.access_token);
  const id = await verify(cognito, body.id_token);
  assert.equal(access.token_use, 'access');
  assert.equal(id.token_use, 'id');
  return { access, id, refreshToken: body.refresh_token };
}

/** Signs ALICE in through the Hosted UI (with `browser`, to keep its session) and exchanges the code. */
async function signIn(cognito: LocalCognito, browser = new HostedUiBrowser()): Promise<TokenSet & { before: number; after: number }> {
  const before = Math.floor(Date.now() / 1000);
  const authorize = new URL(cognito.authorizeUrl);
  authorize.search = new URLSearchParams({ response_type: 'code', client_id: CLIENT.clientId, redirect_uri: REDIRECT_URI, scope: 'openid email', state: 'the-state', nonce: 'the-nonce' }).toString();
  const callback = await browser.signIn(authorize.toString(), ALICE);
  assert.equal(callback.searchParams.get('state'), 'the-state');
  const code = callback.searchParams.get('code');
  assert.ok(code, `no code in ${callback.pathname}${callback.search}`);
  const body = await tokenRequest(cognito, CLIENT.clientId, CLIENT.clientSecret, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  const tokens = await tokenSet(cognito, body);
  assert.equal(tokens.id.nonce, 'the-nonce');
  assert.ok(tokens.refreshToken, 'the code exchange returns a refresh token');
  return { ...tokens, before, after: Math.ceil(Date.now() / 1000) };
}

async function refresh(cognito: LocalCognito, refreshToken: string): Promise<TokenSet> {
  return tokenSet(cognito, await tokenRequest(cognito, CLIENT.clientId, CLIENT.clientSecret, { grant_type: 'refresh_token', refresh_token: refreshToken }));
}

/** The checks every family of tokens from one sign-in must pass. */
function assertOneFamily(family: TokenSet[], signInTime: { before: number; after: number }): void {
  const tokens = family.flatMap((set) => [set.access, set.id]);
  for (const token of tokens) {
    assert.match(String(token.jti), UUID, `${token.token_use} token jti`);
    assert.match(String(token.origin_jti), UUID, `${token.token_use} token origin_jti`);
    assert.notEqual(token.jti, token.origin_jti);
  }
  assert.equal(new Set(tokens.map((token) => token.jti)).size, tokens.length, 'every token has its own jti');
  assert.deepEqual(new Set(tokens.map((token) => token.origin_jti)).size, 1, 'ID and access tokens of one sign-in, refreshed or not, share one origin_jti');

  const authTime = family[0].id.auth_time as number;
  assert.equal(typeof authTime, 'number', 'the ID token has an auth_time');
  assert.ok(authTime >= signInTime.before && authTime <= signInTime.after, `auth_time ${authTime} is the sign-in time (${signInTime.before}…${signInTime.after})`);
  for (const token of tokens) {
    assert.equal(token.auth_time, authTime, `${token.token_use} token auth_time stays the sign-in time`);
    assert.ok((token.auth_time as number) <= token.iat!, 'auth_time <= iat');
  }
  // The refreshes came later than the sign-in, so an auth_time that followed iat would differ.
  assert.ok(family.at(-1)!.access.iat! > authTime, 'the last refresh was issued after the sign-in second');
}

describe('LocalCognito tokens as Cognito issues them with token revocation on: jti, origin_jti, auth_time', () => {
  for (const rotateRefreshTokens of [true, false]) {
    describe(`refresh-token rotation ${rotateRefreshTokens ? 'on' : 'off'}`, () => {
      let cognito: LocalCognito;
      before(async () => {
        cognito = await LocalCognito.start({ users: [ALICE], clients: CLIENTS, rotateRefreshTokens });
      });
      after(() => cognito.stop());

      it('gives every token of a sign-in and its two refreshes its own jti, one shared origin_jti, and the sign-in time as auth_time', async () => {
        const first = await signIn(cognito);
        const family: TokenSet[] = [first];
        let refreshToken = first.refreshToken!;
        for (let round = 0; round < 2; round++) {
          await sleep(1100); // a later second: a refreshed token's iat differs from the sign-in's
          const next = await refresh(cognito, refreshToken);
          if (rotateRefreshTokens) {
            assert.ok(next.refreshToken && next.refreshToken !== refreshToken, 'rotation issues a new refresh token');
            refreshToken = next.refreshToken;
          }
          family.push(next);
        }
        assertOneFamily(family, first);
      });

      it('gives a second sign-in of the same user, with a new browser or through the Hosted UI session, another origin_jti', async () => {
        const browser = new HostedUiBrowser();
        const first = await signIn(cognito, browser);
        // Refreshed now: the next sign-in in this browser's Hosted UI session ends this refresh
        // token (the local Cognito binds refresh tokens to the session's latest grant).
        const refreshed = await refresh(cognito, first.refreshToken!);
        const fresh = await signIn(cognito);
        const again = await signIn(cognito, browser); // no password asked: the Hosted UI session
        const origins = [first, fresh, again].map((set) => set.access.origin_jti);
        assert.equal(new Set(origins).size, 3, `three sign-ins, three origin_jti: ${origins.join(', ')}`);
        for (const set of [first, fresh, again]) assert.equal(set.id.origin_jti, set.access.origin_jti);
        assert.equal(refreshed.access.origin_jti, first.access.origin_jti, 'a refresh stays in its own sign-in family');
        assert.equal(refreshed.id.origin_jti, first.access.origin_jti);
      });
    });
  }

  describe('restarted with dataDir', () => {
    let dataDir: string;
    before(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'local-cognito-jti-'));
    });
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    it('keeps a sign-in family: a refresh after the restart has the same origin_jti and auth_time, and a new jti', async () => {
      let cognito = await LocalCognito.start({ users: [ALICE], clients: CLIENTS, dataDir, rotateRefreshTokens: true });
      try {
        const first = await signIn(cognito);
        await cognito.stop();
        await sleep(1100);
        cognito = await LocalCognito.start({ clients: CLIENTS, dataDir, rotateRefreshTokens: true });
        const second = await refresh(cognito, first.refreshToken!);
        await sleep(1100);
        const third = await refresh(cognito, second.refreshToken!);
        assertOneFamily([first, second, third], first);
      } finally {
        await cognito.stop();
      }
    });
  });

  describe('other tokens', () => {
    let cognito: LocalCognito;
    before(async () => {
      cognito = await LocalCognito.start({ users: [ALICE], clients: CLIENTS });
    });
    after(() => cognito.stop());

    it('gives a client-credentials access token (no sign-in) a UUID jti and its iat as auth_time', async () => {
      const body = await tokenRequest(cognito, MACHINE.clientId, MACHINE.clientSecret, { grant_type: 'client_credentials', scope: 'orders/read' });
      const [one, two] = [await verify(cognito, body.access_token), await verify(cognito, (await tokenRequest(cognito, MACHINE.clientId, MACHINE.clientSecret, { grant_type: 'client_credentials', scope: 'orders/read' })).access_token)];
      for (const token of [one, two]) {
        assert.match(String(token.jti), UUID);
        assert.equal(token.auth_time, token.iat);
        assert.equal(token.client_id, MACHINE.clientId);
      }
      assert.notEqual(one.jti, two.jti);
    });

    it('mints tokens with the given jti, originJti and authTime, so a test can build a family of tokens', async () => {
      const originJti = '0f0e0d0c-0b0a-4908-8706-050403020100';
      const authTime = Math.floor(Date.now() / 1000) - 600;
      const access = await verify(cognito, await cognito.mintAccessToken({ jti: 'access-jti-1', originJti, authTime }));
      const id = await verify(cognito, await cognito.mintIdToken({ jti: 'id-jti-1', originJti, authTime }));
      const refreshed = await verify(cognito, await cognito.mintAccessToken({ originJti, authTime }));
      assert.equal(access.jti, 'access-jti-1');
      assert.equal(id.jti, 'id-jti-1');
      for (const token of [access, id, refreshed]) {
        assert.equal(token.origin_jti, originJti);
        assert.equal(token.auth_time, authTime);
        assert.ok(token.iat! > authTime);
      }
      assert.match(String(refreshed.jti), UUID, 'jti defaults to a random UUID');
      assert.notEqual(refreshed.jti, access.jti);
    });

    it('mints a random jti and origin_jti, and auth_time = iat, by default; claims still win over the options', async () => {
      const [one, two] = [await verify(cognito, await cognito.mintAccessToken()), await verify(cognito, await cognito.mintIdToken())];
      for (const token of [one, two]) {
        assert.match(String(token.jti), UUID);
        assert.match(String(token.origin_jti), UUID);
        assert.equal(token.auth_time, token.iat);
      }
      assert.equal(new Set([one.jti, two.jti, one.origin_jti, two.origin_jti]).size, 4);

      const overridden = await verify(
        cognito,
        await cognito.mintIdToken({ jti: 'from-option', originJti: 'from-option', authTime: 1, claims: { jti: undefined, origin_jti: 'from-claims', auth_time: 2 } }),
      );
      assert.equal('jti' in overridden, false, 'claims: { jti: undefined } removes it');
      assert.equal(overridden.origin_jti, 'from-claims');
      assert.equal(overridden.auth_time, 2);
    });
  });
});
