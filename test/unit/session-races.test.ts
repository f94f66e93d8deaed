// CognitoSessionService at the edges of time: an access token that expires between the refresh
// decision and its verification, and one whose expiry cannot be read while Cognito is down.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { CognitoModule, CognitoSessionService } from '../../lib/index.js';
import { baseOptions, NoopHandler } from '../support/module.js';
import { json, startServer, type ScriptedServer } from '../support/servers.js';
import { makeKey, mint, startJwksServer, type JwksServer, type SigningKey } from '../support/tokens.js';

const newResponse = () => new ServerResponse(new IncomingMessage(new Socket()));
const setCookies = (response: ServerResponse) => [response.getHeader('set-cookie') ?? []].flat().map(String);
const kept = (lines: string[]) => lines.filter((line) => !/Max-Age=0/.test(line)).map((line) => line.split(';')[0]);

describe('CognitoSessionService at the edges of time', () => {
  let key: SigningKey;
  let jwks: JwksServer;
  let cognito: ScriptedServer;
  let answer: () => { status: number; body: unknown };
  let app: INestApplication;
  let session: CognitoSessionService;

  before(async () => {
    key = makeKey('race-key');
    jwks = await startJwksServer([key]);
    cognito = await startServer((_req, res) => {
      const { status, body } = answer();
      json(res, status, body);
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        CognitoModule.forRoot({
          ...baseOptions({ domain: cognito.url, issuer: jwks.issuer, httpTimeoutMs: 2000, sessionRefreshMarginSeconds: 0, clockToleranceSeconds: 0 }),
          callbackHandler: NoopHandler,
        }),
      ],
    })
      .setLogger({ log() {}, error() {}, warn() {}, debug() {}, verbose() {} })
      .compile();
    app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
    session = moduleRef.get(CognitoSessionService);
  });
  after(async () => {
    await app.close();
    await cognito.close();
    await jwks.close();
  });
  beforeEach(() => {
    cognito.requests.length = 0;
  });

  async function signedIn(at: string, rt: string) {
    const response = newResponse();
    await session.establish(response, { accessToken: at, refreshToken: rt, idToken: '', expiresIn: 3600, tokenType: 'Bearer' });
    return { headers: { cookie: kept(setCookies(response)).join('; ') } };
  }

  it('refreshes, rather than drops, a session whose token expired between the refresh decision and its verification', async (t) => {
    const second = Math.floor(Date.now() / 1000) + 100;
    const expiring = await mint(key, jwks.issuer, 'access', { iat: second - 600, exp: second + 1 });
    const fresh = await mint(key, jwks.issuer, 'access', { iat: second, exp: second + 600 });
    // Warm the key set, so that verification reads the clock once and does not wait for the JWKS.
    t.mock.method(Date, 'now', () => second * 1000);
    await session.resume(await signedIn(fresh, 'warm-up'), newResponse());
    // The refresh decision reads the clock a millisecond before the token's expiry; everything
    // after it (the verification first) reads it at the expiry itself.
    let decisions = 0;
    t.mock.method(Date, 'now', () => {
      if (!(new Error().stack ?? '').includes('expiresSoon')) return (second + 1) * 1000;
      decisions++;
      return (second + 1) * 1000 - 1;
    });
    answer = () => ({ status: 200, body: { access_token: fresh, token_type: 'Bearer', expires_in: 3600 } });
    const state = await session.resume(await signedIn(expiring, 'rt-race'), newResponse());
    assert.ok(state.status === 'active', `status ${state.status}`);
    assert.equal(state.refreshed, true);
    assert.equal(state.accessTokenValue, fresh);
    assert.equal(cognito.requests.length, 1);
    assert.equal(decisions, 1, 'the refresh decision saw the earlier time');
  });

  it('counts a token whose expiry it cannot read as expired when Cognito cannot refresh it', async () => {
    answer = () => ({ status: 503, body: { error: 'server_error' } });
    for (const at of ['not-a-jwt', `x.${Buffer.from(JSON.stringify({ exp: 'later' })).toString('base64url')}.y`]) {
      const response = newResponse();
      await assert.rejects(session.resume(await signedIn(at, `rt-${at.length}`), response), { code: 'ERR_TOKEN_ENDPOINT_ERROR' });
      assert.deepEqual(setCookies(response), [], 'the session is kept for when Cognito is back');
    }
  });
});
