// Direct tests of CognitoSessionService on a real Node response (no server of ours): when a
// session is refreshed, kept, dropped or ended, what it sets on the response, and what it logs.
// The token endpoint and the JWKS are real servers on 127.0.0.1; the clock is frozen on a
// whole second so that expiry boundaries are exact.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import { CognitoModule, CognitoSessionService, type CognitoModuleOptions } from '../../lib/index.js';
import { SessionStore } from '../../lib/session/session-store.js';
import { baseOptions, NoopHandler } from '../support/module.js';
import { closedPort, json, startServer, type RecordedRequest, type ScriptedServer } from '../support/servers.js';
import { makeKey, mint, startJwksServer, type JwksServer, type SigningKey } from '../support/tokens.js';

/** The module's own log lines (context "CognitoModule"). Nest's Logger is global: one for all. */
class Lines implements LoggerService {
  lines: [level: string, message: string][] = [];
  private push(level: string, message: unknown, context: unknown) {
    if (context === 'CognitoModule') this.lines.push([level, String(message)]);
  }
  log(message: unknown, context?: unknown) { this.push('log', message, context); }
  error(message: unknown, ...rest: unknown[]) { this.push('error', message, rest.at(-1)); }
  warn(message: unknown, context?: unknown) { this.push('warn', message, context); }
  debug() {}
  verbose() {}
}
const logger = new Lines();

interface Service {
  moduleRef: TestingModule;
  app: INestApplication;
  session: CognitoSessionService;
  store: SessionStore;
}

async function compile(overrides: Partial<CognitoModuleOptions>): Promise<Service> {
  const moduleRef = await Test.createTestingModule({
    imports: [CognitoModule.forRoot({ ...baseOptions(overrides), callbackHandler: NoopHandler })],
  })
    .setLogger(logger)
    .compile();
  // The session sets its cookies through the platform adapter; a native response suits Fastify's.
  const app = moduleRef.createNestApplication(new FastifyAdapter(), { logger });
  return { moduleRef, app, session: moduleRef.get(CognitoSessionService), store: moduleRef.get(SessionStore) };
}

const newResponse = () => new ServerResponse(new IncomingMessage(new Socket()));
const setCookies = (response: ServerResponse) => [response.getHeader('set-cookie') ?? []].flat().map(String);
const request = (cookies: string[]) => ({ headers: cookies.length > 0 ? { cookie: cookies.join('; ') } : {} });
/** The cookies a browser keeps from Set-Cookie lines (removals dropped). */
const kept = (lines: string[]) => lines.filter((line) => !/Max-Age=0/.test(line)).map((line) => line.split(';')[0]);
const CLEARED = [0, 1, 2].map((index) => `__Host-cognito-session.${index}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure`);

describe('CognitoSessionService', () => {
  let key: SigningKey;
  let stranger: SigningKey;
  let jwks: JwksServer;
  let cognito: ScriptedServer;
  let answer: (req: RecordedRequest) => { status: number; body: unknown };
  let s: Service;
  let withIdToken: Service;
  /** Whole seconds: exp - margin equals now exactly. */
  let nowSeconds: number;

  const tokenRequests = () => cognito.requests.filter((req) => req.url === '/oauth2/token');
  const revokeRequests = () => cognito.requests.filter((req) => req.url === '/oauth2/revoke');
  const access = (claims: Record<string, unknown> = {}, signer = key) => mint(signer, jwks.issuer, 'access', { iat: nowSeconds - 3000, exp: nowSeconds + 600, ...claims });
  const id = (claims: Record<string, unknown> = {}) => mint(key, jwks.issuer, 'id', { iat: nowSeconds - 3000, exp: nowSeconds + 600, ...claims });

  function freeze(t: TestContext) {
    t.mock.method(Date, 'now', () => nowSeconds * 1000);
  }

  /** The request a browser sends after `establish` stored these tokens. */
  async function signedIn(on: Service, tokens: { at: string; rt?: string; it?: string }) {
    const response = newResponse();
    await on.session.establish(response, { accessToken: tokens.at, refreshToken: tokens.rt, idToken: tokens.it ?? '', expiresIn: 3600, tokenType: 'Bearer' });
    return request(kept(setCookies(response)));
  }

  before(async () => {
    key = makeKey('session-key');
    stranger = makeKey('stranger-key');
    jwks = await startJwksServer([key]);
    cognito = await startServer((req, res) => {
      const { status, body } = answer(req);
      if (typeof body === 'string') res.writeHead(status).end(body);
      else json(res, status, body);
    });
    const options = { domain: cognito.url, issuer: jwks.issuer, httpTimeoutMs: 2000, logoutUri: 'https://app.example.com/bye' };
    s = await compile(options);
    withIdToken = await compile({ ...options, sessionIncludeIdToken: true, logoutUri: undefined, postLogoutRedirect: '/signed-out' });
  });
  after(async () => {
    await s.app.close();
    await withIdToken.app.close();
    await cognito.close();
    await jwks.close();
  });
  beforeEach(() => {
    nowSeconds = Math.floor(Date.now() / 1000);
    answer = () => ({ status: 500, body: { error: 'unexpected call' } });
    cognito.requests.length = 0;
    logger.lines = [];
  });

  describe('establish', () => {
    it('stores the access and refresh tokens, not the ID token unless sessionIncludeIdToken', async () => {
      const response = newResponse();
      await s.session.establish(response, { accessToken: 'at', refreshToken: 'rt', idToken: 'it', expiresIn: 3600, tokenType: 'Bearer' });
      const lines = setCookies(response);
      assert.equal(lines.length, 3);
      assert.deepEqual(lines.slice(1), CLEARED.slice(1));
      assert.deepEqual(await s.store.read(request(kept(lines))), { at: 'at', rt: 'rt', it: undefined });
      assert.deepEqual(await withIdToken.store.read(await signedIn(withIdToken, { at: 'at', rt: 'rt', it: 'it' })), { at: 'at', rt: 'rt', it: 'it' });
      assert.deepEqual(await withIdToken.store.read(await signedIn(withIdToken, { at: 'at', rt: 'rt', it: '' })), { at: 'at', rt: 'rt', it: undefined });
    });

    it('stores the session without the ID token, with a warning, when it would not fit', async () => {
      const lines = kept(setCookies(await (async () => {
        const response = newResponse();
        await withIdToken.session.establish(response, { accessToken: 'at', refreshToken: 'rt', idToken: 'i'.repeat(12_000), expiresIn: 3600, tokenType: 'Bearer' });
        return response;
      })()));
      assert.deepEqual(await withIdToken.store.read(request(lines)), { at: 'at', rt: 'rt', it: undefined });
      assert.deepEqual(logger.lines, [['warn', 'The session is too large for its cookies with the ID token; storing it without']]);
    });

    it('refuses tokens too large for the cookies even without the ID token', async () => {
      await assert.rejects(s.session.establish(newResponse(), { accessToken: 'a'.repeat(12_000), refreshToken: 'rt', idToken: '', expiresIn: 3600, tokenType: 'Bearer' }), {
        name: 'TypeError',
        message: 'The access and refresh tokens are too large for the session cookies',
      });
    });
  });

  describe('withdraw', () => {
    it('takes back the session cookies established on this response and clears them, keeping the others', async () => {
      const response = newResponse();
      response.setHeader('set-cookie', ['theme=dark; Path=/']);
      await s.session.establish(response, { accessToken: 'at', refreshToken: 'rt', idToken: '', expiresIn: 3600, tokenType: 'Bearer' });
      assert.equal(setCookies(response).length, 4);
      s.session.withdraw(response);
      assert.deepEqual(setCookies(response), ['theme=dark; Path=/', ...CLEARED]);
    });

    it('leaves a response alone when no session was established on it', async () => {
      const response = newResponse();
      response.setHeader('set-cookie', ['theme=dark; Path=/', `${CLEARED[0].split(';')[0]}x; Path=/`]);
      await s.session.establish(newResponse(), { accessToken: 'at', idToken: '', expiresIn: 3600, tokenType: 'Bearer' });
      s.session.withdraw(response);
      s.session.withdraw(undefined);
      s.session.withdraw(null);
      s.session.withdraw('response');
      assert.deepEqual(setCookies(response), ['theme=dark; Path=/', `${CLEARED[0].split(';')[0]}x; Path=/`]);
    });
  });

  describe('resume', () => {
    it('answers none without session cookies, and sets nothing', async () => {
      const response = newResponse();
      assert.deepEqual(await s.session.resume(request(['theme=dark']), response), { status: 'none' });
      assert.deepEqual(setCookies(response), []);
    });

    it('answers none for cookies it cannot read, and clears them', async () => {
      const response = newResponse();
      assert.deepEqual(await s.session.resume(request(['__Host-cognito-session.0=junk']), response), { status: 'none' });
      assert.deepEqual(setCookies(response), CLEARED);
    });

    it('answers a fresh session from the cookie, without calling Cognito', async (t) => {
      freeze(t);
      const at = await access({ exp: nowSeconds + 61 });
      const response = newResponse();
      const state = await s.session.resume(await signedIn(s, { at, rt: 'rt', it: await id() }), response);
      assert.equal(state.status, 'active');
      assert.ok(state.status === 'active');
      assert.equal(state.accessToken.sub, 'user-sub-1');
      assert.equal(state.accessToken.token_use, 'access');
      assert.equal(state.accessTokenValue, at);
      assert.equal(state.refreshed, false);
      assert.equal(state.idToken, undefined);
      assert.deepEqual(setCookies(response), []);
      assert.equal(tokenRequests().length, 0);
    });

    it('answers the ID token’s claims too with sessionIncludeIdToken', async (t) => {
      freeze(t);
      const state = await withIdToken.session.resume(await signedIn(withIdToken, { at: await access(), rt: 'rt', it: await id() }), newResponse());
      assert.ok(state.status === 'active');
      assert.equal(state.idToken?.token_use, 'id');
      assert.equal(state.idToken?.email, 'alice@example.com');
      const without = await withIdToken.session.resume(await signedIn(withIdToken, { at: await access(), rt: 'rt' }), newResponse());
      assert.ok(without.status === 'active');
      assert.equal(without.idToken, undefined);
    });

    it('refreshes once the access token is within sessionRefreshMarginSeconds of expiry, exactly at the margin', async (t) => {
      freeze(t);
      const newAccess = await access({ username: 'alice-refreshed' });
      answer = () => ({ status: 200, body: { access_token: newAccess, token_type: 'Bearer', expires_in: 3600 } });
      const response = newResponse();
      const state = await s.session.resume(await signedIn(s, { at: await access({ exp: nowSeconds + 60 }), rt: 'the-refresh-token' }), response);
      assert.ok(state.status === 'active');
      assert.equal(state.refreshed, true);
      assert.equal(state.accessTokenValue, newAccess);
      assert.equal(state.accessToken.username, 'alice-refreshed');
      assert.deepEqual(Object.fromEntries(new URLSearchParams(tokenRequests()[0].body)), { grant_type: 'refresh_token', refresh_token: 'the-refresh-token', client_id: 'testclient123' });
      // Without rotation the old refresh token is kept.
      assert.deepEqual(await s.store.read(request(kept(setCookies(response)))), { at: newAccess, rt: 'the-refresh-token', it: undefined });
      assert.deepEqual(setCookies(response).slice(1), CLEARED.slice(1));
    });

    it('keeps a rotated refresh token, and the old ID token when the refresh brings none', async (t) => {
      freeze(t);
      const [newAccess, oldId, newId] = [await access(), await id({ email: 'old@example.com' }), await id({ email: 'new@example.com' })];
      answer = () => ({ status: 200, body: { access_token: newAccess, refresh_token: 'rotated', token_type: 'Bearer', expires_in: 3600 } });
      const response = newResponse();
      const state = await withIdToken.session.resume(await signedIn(withIdToken, { at: await access({ exp: nowSeconds }), rt: 'old-rt', it: oldId }), response);
      assert.ok(state.status === 'active');
      assert.equal(state.idToken?.email, 'old@example.com');
      assert.deepEqual(await withIdToken.store.read(request(kept(setCookies(response)))), { at: newAccess, rt: 'rotated', it: oldId });

      answer = () => ({ status: 200, body: { access_token: newAccess, id_token: newId, token_type: 'Bearer', expires_in: 3600 } });
      const again = newResponse();
      const renewed = await withIdToken.session.resume(await signedIn(withIdToken, { at: await access({ exp: nowSeconds + 1 }), rt: 'other-rt', it: oldId }), again);
      assert.ok(renewed.status === 'active');
      assert.equal(renewed.idToken?.email, 'new@example.com');
      assert.deepEqual(await withIdToken.store.read(request(kept(setCookies(again)))), { at: newAccess, rt: 'other-rt', it: newId });
    });

    it('refreshes a token whose expiry it cannot read', async (t) => {
      freeze(t);
      for (const [label, at] of [
        ['not a JWT', 'not-a-jwt'],
        ['exp as a string', `x.${Buffer.from(JSON.stringify({ exp: String(nowSeconds + 600) })).toString('base64url')}.y`],
        ['a payload that is not JSON', `x.${Buffer.from('{').toString('base64url')}.y`],
      ]) {
        cognito.requests.length = 0;
        const fresh = await access();
        answer = () => ({ status: 200, body: { access_token: fresh, token_type: 'Bearer', expires_in: 3600 } });
        const state = await s.session.resume(await signedIn(s, { at, rt: `rt-${label}` }), newResponse());
        assert.equal(tokenRequests().length, 1, label);
        assert.ok(state.status === 'active' && state.refreshed, label);
      }
    });

    it('joins concurrent refreshes of one session into one request', async (t) => {
      freeze(t);
      const fresh = await access();
      answer = () => ({ status: 200, body: { access_token: fresh, token_type: 'Bearer', expires_in: 3600 } });
      const signed = await signedIn(s, { at: await access({ exp: nowSeconds + 10 }), rt: 'shared-rt' });
      const states = await Promise.all([s.session.resume(signed, newResponse()), s.session.resume(signed, newResponse())]);
      assert.deepEqual(states.map((state) => state.status === 'active' && state.accessTokenValue), [fresh, fresh]);
      assert.equal(tokenRequests().length, 1);
    });

    it('ends the session (login_required) when it would need a refresh token it does not have', async (t) => {
      freeze(t);
      const response = newResponse();
      assert.deepEqual(await s.session.resume(await signedIn(s, { at: await access({ exp: nowSeconds + 60 }) }), response), { status: 'login_required' });
      assert.deepEqual(setCookies(response), CLEARED);
      assert.equal(tokenRequests().length, 0);
    });

    it('ends the session when Cognito refuses the refresh token (invalid_grant)', async (t) => {
      freeze(t);
      answer = () => ({ status: 400, body: { error: 'invalid_grant' } });
      const response = newResponse();
      assert.deepEqual(await s.session.resume(await signedIn(s, { at: await access({ exp: nowSeconds + 30 }), rt: 'revoked' }), response), { status: 'login_required' });
      assert.deepEqual(setCookies(response), CLEARED);
    });

    it('uses the current access token while it lasts when Cognito fails otherwise, with a warning', async (t) => {
      freeze(t);
      answer = () => ({ status: 400, body: { error: 'invalid_request' } });
      const at = await access({ exp: nowSeconds + 1 });
      const response = newResponse();
      const state = await s.session.resume(await signedIn(s, { at, rt: 'rt-1' }), response);
      assert.ok(state.status === 'active');
      assert.equal(state.refreshed, false);
      assert.equal(state.accessTokenValue, at);
      assert.deepEqual(setCookies(response), []);
      assert.deepEqual(logger.lines, [['warn', 'Session refresh failed (ERR_TOKEN_ENDPOINT_ERROR); the current access token is still valid']]);
    });

    it('answers 503 material (the TokenEndpointError) once the access token has expired, exactly at exp', async (t) => {
      freeze(t);
      answer = () => ({ status: 503, body: 'down' });
      const response = newResponse();
      await assert.rejects(s.session.resume(await signedIn(s, { at: await access({ exp: nowSeconds }), rt: 'rt-2' }), response), { code: 'ERR_TOKEN_ENDPOINT_ERROR' });
      assert.deepEqual(setCookies(response), [], 'the session is kept for when Cognito is back');
    });

    it('drops a session whose still-valid token fails verification while Cognito is down', async (t) => {
      freeze(t);
      answer = () => ({ status: 503, body: 'down' });
      const response = newResponse();
      const state = await s.session.resume(await signedIn(s, { at: await access({ exp: nowSeconds + 30, client_id: 'another-client' }), rt: 'rt-3' }), response);
      assert.deepEqual(state, { status: 'none' });
      assert.deepEqual(setCookies(response), CLEARED);
    });

    it('keeps refreshed tokens even when they fail verification', async (t) => {
      freeze(t);
      const bad = await access({ client_id: 'another-client' });
      answer = () => ({ status: 200, body: { access_token: bad, refresh_token: 'rotated-rt', token_type: 'Bearer', expires_in: 3600 } });
      const response = newResponse();
      await assert.rejects(s.session.resume(await signedIn(s, { at: await access({ exp: nowSeconds + 5 }), rt: 'rt-4' }), response), { code: 'ERR_JWT_CLAIM_INVALID' });
      assert.deepEqual(await s.store.read(request(kept(setCookies(response)))), { at: bad, rt: 'rotated-rt', it: undefined });
    });

    const dropped: [label: string, at: () => Promise<string>, code: string][] = [
      ['signed by a key the pool does not publish', () => access({}, stranger), 'ERR_JWKS_NO_MATCHING_KEY'],
      ['for another client', () => access({ client_id: 'another-client' }), 'ERR_JWT_CLAIM_INVALID'],
      ['that is an ID token', () => id(), 'ERR_JWT_CLAIM_INVALID'],
    ];
    for (const [label, at, code] of dropped) {
      it(`drops a session whose access token is ${label}, with a warning`, async (t) => {
        freeze(t);
        const response = newResponse();
        assert.deepEqual(await s.session.resume(await signedIn(s, { at: await at(), rt: 'rt' }), response), { status: 'none' });
        assert.deepEqual(setCookies(response), CLEARED);
        assert.deepEqual(logger.lines, [['warn', `Session cookie holds a token that failed verification (${code}); the session is dropped`]]);
        assert.equal(tokenRequests().length, 0);
      });
    }

    it('rethrows a JWKS outage instead of dropping the session', async (t) => {
      freeze(t);
      const down = await compile({ domain: cognito.url, jwksUri: `http://127.0.0.1:${await closedPort()}/jwks.json`, issuer: jwks.issuer, httpTimeoutMs: 500 });
      try {
        const response = newResponse();
        await assert.rejects(down.session.resume(await signedIn(down, { at: await access(), rt: 'rt' }), response), { code: 'ERR_JWKS_UNAVAILABLE' });
        assert.deepEqual(setCookies(response), []);
      } finally {
        await down.app.close();
      }
    });
  });

  describe('hasSessionCookies, clear', () => {
    it('tells whether the request carries session cookies, opened or not', () => {
      assert.equal(s.session.hasSessionCookies(request(['__Host-cognito-session.1=junk'])), true);
      assert.equal(s.session.hasSessionCookies(request(['theme=dark'])), false);
    });

    it('clears the three session cookies', () => {
      const response = newResponse();
      s.session.clear(response);
      assert.deepEqual(setCookies(response), CLEARED);
    });
  });

  describe('logout', () => {
    it('builds Cognito’s /logout URL with client_id and logout_uri, or nothing without logoutUri', () => {
      assert.equal(s.session.logoutUrl(), `${cognito.url}/logout?client_id=testclient123&logout_uri=https%3A%2F%2Fapp.example.com%2Fbye`);
      assert.equal(withIdToken.session.logoutUrl(), undefined);
    });

    it('revokes the refresh token, clears the cookies and sends the browser to /logout', async () => {
      answer = () => ({ status: 200, body: '' });
      const response = newResponse();
      const target = await s.session.logout(await signedIn(s, { at: 'at', rt: 'the-rt' }), response);
      assert.equal(target, s.session.logoutUrl());
      assert.equal(revokeRequests().length, 1);
      assert.equal(new URLSearchParams(revokeRequests()[0].body).get('token'), 'the-rt');
      assert.deepEqual(setCookies(response), CLEARED);
      assert.deepEqual(logger.lines, []);
    });

    it('signs out anyway, with a warning, when the revocation fails', async () => {
      answer = () => ({ status: 503, body: 'down' });
      const response = newResponse();
      assert.equal(await withIdToken.session.logout(await signedIn(withIdToken, { at: 'at', rt: 'the-rt' }), response), '/signed-out');
      assert.equal(revokeRequests().length, 1);
      assert.deepEqual(setCookies(response), CLEARED);
      assert.deepEqual(logger.lines, [['warn', 'Revoking the refresh token failed (ERR_TOKEN_ENDPOINT_ERROR); signing out anyway']]);
    });

    it('revokes nothing without a readable refresh token, and still clears', async () => {
      for (const signed of [request([]), request(['__Host-cognito-session.0=junk']), await signedIn(s, { at: 'at' })]) {
        const response = newResponse();
        assert.equal(await s.session.logout(signed, response), s.session.logoutUrl());
        assert.deepEqual(setCookies(response), CLEARED);
      }
      assert.equal(cognito.requests.length, 0);
    });
  });
});
