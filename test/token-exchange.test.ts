import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JwksVerifierService, TokenEndpointError, TokenExchangeService } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { compileCognito } from './support/module.js';
import { closedPort, json, startServer, type ScriptedServer } from './support/servers.js';

const GOOD_RESPONSE = { id_token: 'id.token.value', access_token: 'access.token.value', refresh_token: 'refresh-value', token_type: 'Bearer', expires_in: 3600 };

describe('TokenExchangeService.exchangeCode', () => {
  let server: ScriptedServer;
  let respond: Parameters<typeof startServer>[0];

  before(async () => {
    server = await startServer((req, res) => respond(req, res));
  });
  after(() => server.close());

  async function service(overrides: Record<string, unknown> = {}) {
    const moduleRef = await compileCognito({ clientSecret: 'sec ret/+', tokenUrl: `${server.url}/oauth2/token`, httpTimeoutMs: 300, ...overrides });
    return moduleRef.get(TokenExchangeService);
  }

  it('posts a form with HTTP Basic client authentication and returns the token set', async () => {
    respond = (_req, res) => json(res, 200, GOOD_RESPONSE);
    const tokens = await (await service()).exchangeCode({ code: 'the-code', codeVerifier: 'the-verifier' });
    assert.deepEqual(tokens, { idToken: 'id.token.value', accessToken: 'access.token.value', refreshToken: 'refresh-value', expiresIn: 3600, tokenType: 'Bearer' });

    const request = server.requests.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/oauth2/token');
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    // RFC 6749 §2.3.1: each part form-urlencoded before base64 ("sec ret/+" -> "sec+ret%2F%2B").
    assert.equal(request.headers.authorization, `Basic ${Buffer.from('testclient123:sec+ret%2F%2B').toString('base64')}`);
    const form = new URLSearchParams(request.body);
    assert.deepEqual(Object.fromEntries(form), {
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'https://app.example.com/auth/callback',
      code_verifier: 'the-verifier',
    });
  });

  it('sends client_id in the body, and no Authorization header, for a public client', async () => {
    respond = (_req, res) => json(res, 200, GOOD_RESPONSE);
    await (await service({ clientSecret: undefined })).exchangeCode({ code: 'c', redirectUri: 'https://app.example.com/other' });
    const request = server.requests.at(-1)!;
    assert.equal(request.headers.authorization, undefined);
    const form = new URLSearchParams(request.body);
    assert.equal(form.get('client_id'), 'testclient123');
    assert.equal(form.get('redirect_uri'), 'https://app.example.com/other');
    assert.equal(form.has('code_verifier'), false);
  });

  type Failure = { name: string; respond: Parameters<typeof startServer>[0]; code: string; status?: number; oauthError?: string; reason: string; tokenUrl?: () => Promise<string> };
  const failures: Failure[] = [
    { name: '400 invalid_grant', respond: (_q, r) => json(r, 400, { error: 'invalid_grant' }), code: 'ERR_TOKEN_ENDPOINT_ERROR', status: 400, oauthError: 'invalid_grant', reason: 'invalid_grant' },
    { name: '401 invalid_client', respond: (_q, r) => json(r, 401, { error: 'invalid_client' }), code: 'ERR_TOKEN_ENDPOINT_ERROR', status: 401, oauthError: 'invalid_client', reason: 'invalid_client' },
    { name: '400 unauthorized_client', respond: (_q, r) => json(r, 400, { error: 'unauthorized_client' }), code: 'ERR_TOKEN_ENDPOINT_ERROR', status: 400, oauthError: 'unauthorized_client', reason: 'token_exchange_failed' },
    { name: '503 with an HTML body', respond: (_q, r) => r.writeHead(503, { 'content-type': 'text/html' }).end('<h1>down</h1>'), code: 'ERR_TOKEN_ENDPOINT_ERROR', status: 503, reason: 'cognito_unavailable' },
    { name: '500 with a JSON error', respond: (_q, r) => json(r, 500, { error: 'server_error' }), code: 'ERR_TOKEN_ENDPOINT_ERROR', status: 500, oauthError: 'server_error', reason: 'cognito_unavailable' },
    { name: 'an error code with odd characters', respond: (_q, r) => json(r, 400, { error: '<script>' }), code: 'ERR_TOKEN_ENDPOINT_ERROR', status: 400, reason: 'token_exchange_failed' },
    { name: 'a 200 that is not JSON', respond: (_q, r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<html>'), code: 'ERR_TOKEN_RESPONSE_INVALID', status: 200, reason: 'token_exchange_failed' },
    { name: 'a 200 JSON array', respond: (_q, r) => json(r, 200, [GOOD_RESPONSE]), code: 'ERR_TOKEN_RESPONSE_INVALID', status: 200, reason: 'token_exchange_failed' },
    { name: 'a 200 without id_token', respond: (_q, r) => json(r, 200, { ...GOOD_RESPONSE, id_token: undefined }), code: 'ERR_TOKEN_RESPONSE_INVALID', status: 200, reason: 'token_exchange_failed' },
    { name: 'a 200 without access_token', respond: (_q, r) => json(r, 200, { ...GOOD_RESPONSE, access_token: '' }), code: 'ERR_TOKEN_RESPONSE_INVALID', status: 200, reason: 'token_exchange_failed' },
    { name: 'a 200 with token_type MAC', respond: (_q, r) => json(r, 200, { ...GOOD_RESPONSE, token_type: 'MAC' }), code: 'ERR_TOKEN_RESPONSE_INVALID', status: 200, reason: 'token_exchange_failed' },
    { name: 'a 200 with a negative expires_in', respond: (_q, r) => json(r, 200, { ...GOOD_RESPONSE, expires_in: -5 }), code: 'ERR_TOKEN_RESPONSE_INVALID', status: 200, reason: 'token_exchange_failed' },
    { name: 'a redirect', respond: (_q, r) => r.writeHead(302, { location: 'http://127.0.0.1:1/' }).end(), code: 'ERR_TOKEN_ENDPOINT_ERROR', status: 302, reason: 'token_exchange_failed' },
    { name: 'no answer (timeout)', respond: () => undefined, code: 'ERR_TOKEN_ENDPOINT_TIMEOUT', reason: 'cognito_unavailable' },
    {
      name: 'a body that never ends (total timeout)',
      respond: (_q, r) => {
        r.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => (r.destroyed ? clearInterval(timer) : r.write(' ')), 50);
      },
      code: 'ERR_TOKEN_ENDPOINT_TIMEOUT',
      reason: 'cognito_unavailable',
    },
    {
      name: 'a 200 JSON body over the 256 KiB response cap',
      respond: (_q, r) => json(r, 200, { ...GOOD_RESPONSE, padding: 'x'.repeat(300 * 1024) }),
      code: 'ERR_TOKEN_RESPONSE_INVALID',
      reason: 'token_exchange_failed',
    },
    // A POST is never sent twice (an authorization code works once): a dropped connection fails.
    { name: 'a connection dropped before any answer (not retried)', respond: (_q, r) => void r.socket?.destroy(), code: 'ERR_TOKEN_ENDPOINT_UNREACHABLE', reason: 'cognito_unavailable' },
    { name: 'nothing listening', respond: () => undefined, tokenUrl: async () => `http://127.0.0.1:${await closedPort()}/oauth2/token`, code: 'ERR_TOKEN_ENDPOINT_UNREACHABLE', reason: 'cognito_unavailable' },
  ];

  for (const failure of failures) {
    it(`fails with ${failure.code} on ${failure.name}`, async () => {
      respond = failure.respond;
      const overrides = failure.tokenUrl ? { tokenUrl: await failure.tokenUrl() } : {};
      const started = Date.now();
      const sent = server.requests.length;
      const error = await (await service(overrides)).exchangeCode({ code: 'secret-code-123' }).catch((caught: unknown) => caught);
      assert.ok(error instanceof TokenEndpointError, String(error));
      assert.equal(error.code, failure.code);
      assert.equal(error.status, failure.status);
      assert.equal(error.oauthError, failure.oauthError);
      assert.equal(error.reason, failure.reason);
      assert.ok(Date.now() - started < 5000, 'the timeout bounds the call');
      for (const secret of ['secret-code-123', 'sec ret', 'sec+ret']) assert.ok(!error.message.includes(secret) && !String(error.cause ?? '').includes(secret));
      if (failure.name.includes('not retried')) assert.equal(server.requests.length - sent, 1, 'the code was sent once');
    });
  }
});

describe('TokenExchangeService refresh, revoke and client credentials', () => {
  let server: ScriptedServer;
  let respond: Parameters<typeof startServer>[0];
  before(async () => {
    server = await startServer((req, res) => respond(req, res));
  });
  after(() => server.close());

  const service = async (overrides: Record<string, unknown> = {}) =>
    (await compileCognito({ clientSecret: 'shh', domain: server.url, httpTimeoutMs: 500, ...overrides })).get(TokenExchangeService);

  it('refresh() posts grant_type=refresh_token and keeps the refresh token absent when Cognito does not rotate it', async () => {
    respond = (_req, res) => json(res, 200, { ...GOOD_RESPONSE, refresh_token: undefined });
    const tokens = await (await service()).refresh('the-refresh-token');
    assert.equal(tokens.refreshToken, undefined);
    assert.equal(tokens.accessToken, 'access.token.value');
    const request = server.requests.at(-1)!;
    assert.equal(request.url, '/oauth2/token');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), { grant_type: 'refresh_token', refresh_token: 'the-refresh-token' });
    assert.equal(request.headers.authorization, `Basic ${Buffer.from('testclient123:shh').toString('base64')}`);
  });

  it('refresh() returns the new refresh token when Cognito rotates it', async () => {
    respond = (_req, res) => json(res, 200, { ...GOOD_RESPONSE, refresh_token: 'rotated' });
    assert.equal((await (await service()).refresh('old')).refreshToken, 'rotated');
  });

  it('refresh() reports a revoked refresh token as invalid_grant', async () => {
    respond = (_req, res) => json(res, 400, { error: 'invalid_grant' });
    await assert.rejects((await service()).refresh('revoked'), { code: 'ERR_TOKEN_ENDPOINT_ERROR', oauthError: 'invalid_grant', reason: 'invalid_grant' });
  });

  it('revoke() posts the token to /oauth2/revoke and accepts an empty 200', async () => {
    respond = (_req, res) => {
      res.writeHead(200).end();
    };
    await (await service({ clientSecret: undefined })).revoke('rt-value');
    const request = server.requests.at(-1)!;
    assert.equal(request.url, '/oauth2/revoke');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), { token: 'rt-value', client_id: 'testclient123' });
  });

  it('revoke() reports a failure with the revocation endpoint named', async () => {
    respond = (_req, res) => json(res, 400, { error: 'unsupported_token_type' });
    const error = await (await service()).revoke('rt').catch((caught: unknown) => caught);
    assert.ok(error instanceof TokenEndpointError);
    assert.match(error.message, /revocation endpoint answered HTTP 400/);
  });

  it('clientCredentials() caches the token and shares one request between concurrent callers', async () => {
    respond = (_req, res) => {
      setTimeout(() => json(res, 200, { access_token: 'machine-token', token_type: 'Bearer', expires_in: 3600 }), 50);
    };
    const tokens = await service();
    const start = server.requests.length;
    const results = await Promise.all(Array.from({ length: 20 }, () => tokens.clientCredentials(['orders/write', 'orders/read'])));
    assert.ok(results.every((result) => result.accessToken === 'machine-token'));
    assert.equal(server.requests.length - start, 1);
    assert.equal(new URLSearchParams(server.requests.at(-1)!.body).get('scope'), 'orders/read orders/write');
    await tokens.clientCredentials(['orders/read', 'orders/write']);
    assert.equal(server.requests.length - start, 1, 'the cached token is reused');
    await tokens.clientCredentials(['orders/read']);
    assert.equal(server.requests.length - start, 2, 'another scope set is another token');
  });

  it('clientCredentials() fetches a new token once the cached one nears expiry', async () => {
    respond = (_req, res) => json(res, 200, { access_token: `t${server.requests.length}`, token_type: 'Bearer', expires_in: 1 });
    const tokens = await service();
    const first = await tokens.clientCredentials(['a/b']);
    const second = await tokens.clientCredentials(['a/b']);
    assert.notEqual(first.accessToken, second.accessToken, 'a 1-second token is renewed at once');
  });

  it('clientCredentials() does not cache a failure', async () => {
    respond = (_req, res) => json(res, 500, {});
    const tokens = await service();
    await assert.rejects(tokens.clientCredentials(['x/y']), { reason: 'cognito_unavailable' });
    respond = (_req, res) => json(res, 200, { access_token: 'ok', token_type: 'Bearer', expires_in: 3600 });
    assert.equal((await tokens.clientCredentials(['x/y'])).accessToken, 'ok');
  });

  it('clientCredentials() refuses a public client', async () => {
    await assert.rejects((await service({ clientSecret: undefined })).clientCredentials(['x/y']), /needs a client secret/);
  });
});

describe('client credentials against the local Cognito', () => {
  it('returns an access token that the verifier accepts, with client_id and the custom scope', async () => {
    const cognito = await LocalCognito.start({
      users: [],
      clients: [{ clientId: 'machine', clientSecret: 'machine-secret', redirectUris: ['http://127.0.0.1:3000/cb'], customScopes: ['orders/read'] }],
    });
    try {
      const moduleRef = await compileCognito({ ...cognito.moduleOptions('machine'), redirectUri: 'http://127.0.0.1:3000/cb' });
      const token = await moduleRef.get(TokenExchangeService).clientCredentials(['orders/read']);
      const claims = await moduleRef.get(JwksVerifierService).verifyAccessToken(token.accessToken);
      assert.equal(claims.client_id, 'machine');
      assert.equal(claims.sub, 'machine');
      assert.equal(claims.scope, 'orders/read');
      assert.equal(claims.username, undefined);
    } finally {
      await cognito.stop();
    }
  });
});
