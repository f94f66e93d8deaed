// The session's memory: SessionStore remembers opened cookies (admitted on their second
// sighting, until the seal expires), CognitoSessionService reads a session once per response and
// answers a known session without a promise (knownAccessClaims).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import { CognitoModule, CognitoSessionService, type CognitoModuleOptions } from '../../lib/index.js';
import { SessionStore } from '../../lib/session/session-store.js';
import { baseOptions, NoopHandler } from '../support/module.js';
import { json, startServer, type ScriptedServer } from '../support/servers.js';
import { makeKey, mint, startJwksServer, type JwksServer, type SigningKey } from '../support/tokens.js';

const newResponse = () => new ServerResponse(new IncomingMessage(new Socket()));
const setCookies = (response: ServerResponse) => [response.getHeader('set-cookie') ?? []].flat().map(String);
const kept = (lines: string[]) => lines.filter((line) => !/Max-Age=0/.test(line)).map((line) => line.split(';')[0]);
const request = (cookies: string[]) => ({ headers: cookies.length > 0 ? { cookie: cookies.join('; ') } : {} });

interface Harness {
  moduleRef: TestingModule;
  app: INestApplication;
  session: CognitoSessionService;
  store: SessionStore;
}

describe('the session’s memory', () => {
  let key: SigningKey;
  let jwks: JwksServer;
  let cognito: ScriptedServer;
  let answer: () => { status: number; body: unknown };
  let h: Harness;
  let uncached: Harness;
  const harnesses: Harness[] = [];

  async function compile(overrides: Partial<CognitoModuleOptions>): Promise<Harness> {
    const moduleRef = await Test.createTestingModule({
      imports: [CognitoModule.forRoot({ ...baseOptions({ domain: cognito.url, issuer: jwks.issuer, httpTimeoutMs: 2000, ...overrides }), callbackHandler: NoopHandler })],
    })
      .setLogger({ log() {}, error() {}, warn() {}, debug() {}, verbose() {} })
      .compile();
    const app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
    const harness = { moduleRef, app, session: moduleRef.get(CognitoSessionService), store: moduleRef.get(SessionStore) };
    harnesses.push(harness);
    return harness;
  }

  before(async () => {
    key = makeKey('cache-key');
    jwks = await startJwksServer([key]);
    cognito = await startServer((_req, res) => {
      const { status, body } = answer();
      json(res, status, body);
    });
    h = await compile({});
    uncached = await compile({ sessionCacheSize: 0, verifiedTokenCacheSize: 0 });
  });
  after(async () => {
    for (const harness of harnesses) await harness.app.close();
    await cognito.close();
    await jwks.close();
  });
  beforeEach(() => {
    cognito.requests.length = 0;
    answer = () => ({ status: 500, body: {} });
  });

  async function cookiesOf(on: Harness, tokens: { at: string; rt?: string }) {
    const response = newResponse();
    await on.session.establish(response, { accessToken: tokens.at, refreshToken: tokens.rt, idToken: '', expiresIn: 3600, tokenType: 'Bearer' });
    return kept(setCookies(response));
  }
  const access = (claims: Record<string, unknown> = {}) => mint(key, jwks.issuer, 'access', claims);

  describe('SessionStore', () => {
    it('remembers a session from its second reading on, and answers it without opening', async () => {
      const cookies = await cookiesOf(h, { at: 'at-1', rt: 'rt-1' });
      assert.equal(h.store.readKnown(request(cookies)), undefined, 'never read');
      const first = await h.store.read(request(cookies));
      assert.equal(h.store.readKnown(request(cookies)), undefined, 'seen once');
      const second = await h.store.read(request(cookies));
      assert.deepEqual(second, first);
      const known = h.store.readKnown(request(cookies));
      assert.deepEqual(known, { at: 'at-1', rt: 'rt-1', it: undefined });
      assert.equal(await h.store.read(request(cookies)), known, 'the remembered session itself');
    });

    it('remembers nothing for other cookies, a changed chunk, or with sessionCacheSize 0', async () => {
      const cookies = await cookiesOf(h, { at: 'at-2' });
      await h.store.read(request(cookies));
      await h.store.read(request(cookies));
      assert.equal(h.store.readKnown(request([])), undefined);
      const [name, value] = cookies[0].split('=');
      const changed = `${name}=${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
      assert.equal(h.store.readKnown(request([changed])), undefined);
      assert.equal(await h.store.read(request([changed])), 'invalid');

      const other = await cookiesOf(uncached, { at: 'at-3' });
      for (let reading = 0; reading < 3; reading++) assert.deepEqual(await uncached.store.read(request(other)), { at: 'at-3', rt: undefined, it: undefined });
      assert.equal(uncached.store.readKnown(request(other)), undefined);
    });

    it('forgets a remembered session when its seal expires', async (t) => {
      const short = await compile({ sessionMaxAgeSeconds: 60 });
      const now = { value: Math.floor(Date.now() / 1000) * 1000 };
      t.mock.method(Date, 'now', () => now.value);
      const cookies = await cookiesOf(short, { at: 'at-4' });
      await short.store.read(request(cookies));
      await short.store.read(request(cookies));
      now.value += 59_999;
      assert.ok(short.store.readKnown(request(cookies)), 'still remembered');
      now.value += 1;
      assert.equal(short.store.readKnown(request(cookies)), undefined);
      assert.equal(await short.store.read(request(cookies)), 'invalid', 'and the seal has expired');
    });
  });

  describe('CognitoSessionService', () => {
    it('reads the session once per response: unusable cookies are cleared once', async () => {
      const response = newResponse();
      const junk = request(['__Host-cognito-session.0=junk']);
      const [a, b] = await Promise.all([h.session.resume(junk, response), h.session.resume(junk, response)]);
      assert.deepEqual([a, b], [{ status: 'none' }, { status: 'none' }]);
      assert.equal(setCookies(response).length, 3);
      await h.session.resume(junk, response);
      assert.equal(setCookies(response).length, 3);
    });

    it('refreshes once per response', async () => {
      const fresh = await access();
      answer = () => ({ status: 200, body: { access_token: fresh, token_type: 'Bearer', expires_in: 3600 } });
      const cookies = await cookiesOf(h, { at: await access({ exp: Math.floor(Date.now() / 1000) + 5 }), rt: 'rt-once' });
      const response = newResponse();
      await h.session.resume(request(cookies), response);
      await h.session.resume(request(cookies), response);
      assert.equal(cognito.requests.length, 1);
      assert.equal(setCookies(response).length, 3);
    });

    it('reads again after establish or clear on the same response', async () => {
      const cookies = await cookiesOf(h, { at: await access(), rt: 'rt-5' });
      const response = newResponse();
      assert.deepEqual(await h.session.resume(request([]), response), { status: 'none' });
      await h.session.establish(response, { accessToken: await access(), refreshToken: 'rt-6', idToken: '', expiresIn: 3600, tokenType: 'Bearer' });
      assert.equal((await h.session.resume(request(cookies), response)).status, 'active', 'after establish');

      const other = newResponse();
      assert.equal((await h.session.resume(request(cookies), other)).status, 'active');
      h.session.clear(other);
      assert.deepEqual(await h.session.resume(request([]), other), { status: 'none' }, 'after clear');
    });

    it('reads the session for every call without a response object', async () => {
      const cookies = await cookiesOf(h, { at: await access(), rt: 'rt-7' });
      assert.deepEqual(await h.session.resume(request([]), undefined), { status: 'none' });
      assert.deepEqual(await h.session.resume(request([]), null), { status: 'none' });
      assert.equal((await h.session.resume(request(cookies), undefined)).status, 'active');
    });

    it('knows the access claims of a session opened and verified before, not due for a refresh', async () => {
      const at = await access({ jti: 'known-session' });
      const cookies = await cookiesOf(h, { at, rt: 'rt-8' });
      assert.equal(h.session.knownAccessClaims(request(cookies)), undefined, 'nothing known yet');
      for (let reading = 0; reading < 2; reading++) await h.session.resume(request(cookies), newResponse());
      assert.equal(h.session.knownAccessClaims(request(cookies))?.jti, 'known-session');
      assert.equal(h.session.knownAccessClaims(request([])), undefined);
    });

    it('knows nothing of a session due for a refresh, or whose token no longer passes', async (t) => {
      // Keys kept for a week, so that only the refresh margin decides.
      const h = await compile({ jwksCacheTimeout: 7 * 24 * 3600 });
      const second = Math.floor(Date.now() / 1000);
      const now = { value: second * 1000 };
      t.mock.method(Date, 'now', () => now.value);
      const at = await access({ jti: 'due', iat: second, exp: second + 3600 });
      const cookies = await cookiesOf(h, { at, rt: 'rt-9' });
      for (let reading = 0; reading < 2; reading++) await h.session.resume(request(cookies), newResponse());
      now.value = (second + 3600 - 61) * 1000;
      assert.equal(h.session.knownAccessClaims(request(cookies))?.jti, 'due');
      now.value += 1000; // exp - margin (60 s) reached
      assert.equal(h.session.knownAccessClaims(request(cookies)), undefined);

      const wrong = await access({ jti: 'wrong-use', client_id: 'other-client' });
      const other = await cookiesOf(h, { at: wrong, rt: 'rt-10' });
      now.value = second * 1000;
      for (let reading = 0; reading < 2; reading++) await h.session.resume(request(other), newResponse());
      assert.equal(h.session.knownAccessClaims(request(other)), undefined, 'the full path says why');
    });
  });
});
