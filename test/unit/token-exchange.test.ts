// Direct tests of TokenExchangeService's answers, word for word: what each failure says, which
// token responses it accepts, and when a client-credentials token is renewed (frozen clock).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import type { TestingModule } from '@nestjs/testing';
import { TokenExchangeService } from '../../lib/index.js';
import { basicAuthorization } from '../../lib/tokens/token-exchange.service.js';
import { compileCognito } from '../support/module.js';
import { json, startServer, type RecordedRequest, type ScriptedServer } from '../support/servers.js';

const GOOD = { id_token: 'id.token.value', access_token: 'access.token.value', refresh_token: 'refresh-value', token_type: 'Bearer', expires_in: 3600 };

describe('TokenExchangeService answers', () => {
  let server: ScriptedServer;
  let answer: (req: RecordedRequest) => { status: number; body: unknown } | undefined;
  const modules: TestingModule[] = [];

  before(async () => {
    server = await startServer((req, res) => {
      const reply = answer(req);
      if (reply === undefined) return; // no answer: the client times out
      if (typeof reply.body === 'string') res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body);
      else json(res, reply.status, reply.body);
    });
  });
  after(async () => {
    for (const moduleRef of modules) await moduleRef.close();
    await server.close();
  });
  beforeEach(() => {
    server.requests.length = 0;
  });

  async function service(overrides: Record<string, unknown> = {}) {
    const moduleRef = await compileCognito({ clientSecret: 'shh', domain: server.url, httpTimeoutMs: 300, ...overrides });
    modules.push(moduleRef);
    return moduleRef.get(TokenExchangeService);
  }
  const fails = (code: string, message: string, extra: Record<string, unknown> = {}) => (error: unknown) => {
    const { code: actual, message: text } = error as { code: string; message: string };
    assert.equal(actual, code);
    assert.equal(text, message);
    for (const [name, value] of Object.entries(extra)) assert.equal((error as Record<string, unknown>)[name], value, name);
    return true;
  };

  const endpointErrors: [label: string, reply: { status: number; body: unknown }, message: string, oauthError: string | undefined][] = [
    ['an OAuth error', { status: 400, body: { error: 'invalid_grant' } }, `Cognito's token endpoint answered HTTP 400 with error "invalid_grant"`, 'invalid_grant'],
    ['an error code of 64 characters', { status: 400, body: { error: 'e'.repeat(64) } }, `Cognito's token endpoint answered HTTP 400 with error "${'e'.repeat(64)}"`, 'e'.repeat(64)],
    ['an error code of 65 characters', { status: 400, body: { error: 'e'.repeat(65) } }, "Cognito's token endpoint answered HTTP 400", undefined],
    ['an error code with a space', { status: 400, body: { error: 'invalid grant' } }, "Cognito's token endpoint answered HTTP 400", undefined],
    ['an empty error code', { status: 400, body: { error: '' } }, "Cognito's token endpoint answered HTTP 400", undefined],
    ['a numeric error code', { status: 400, body: { error: 400 } }, "Cognito's token endpoint answered HTTP 400", undefined],
    ['a text body', { status: 502, body: 'bad gateway' }, "Cognito's token endpoint answered HTTP 502", undefined],
  ];
  for (const [label, reply, message, oauthError] of endpointErrors) {
    it(`reports ${label}`, async () => {
      answer = () => reply;
      await assert.rejects((await service()).exchangeCode({ code: 'c' }), fails('ERR_TOKEN_ENDPOINT_ERROR', message, { status: reply.status, oauthError }));
    });
  }

  it('names the revocation endpoint in its failures, and accepts any 200 from it', async () => {
    answer = () => ({ status: 400, body: { error: 'unsupported_token_type' } });
    await assert.rejects((await service()).revoke('rt'), fails('ERR_TOKEN_ENDPOINT_ERROR', `Cognito's revocation endpoint answered HTTP 400 with error "unsupported_token_type"`));
    answer = () => ({ status: 200, body: 'not json' });
    await (await service()).revoke('rt');
    assert.equal(server.requests.at(-1)!.url, '/oauth2/revoke');
  });

  it('reports a timeout with the configured time, and an endpoint that cannot be reached', async () => {
    answer = () => undefined;
    await assert.rejects((await service()).exchangeCode({ code: 'c' }), fails('ERR_TOKEN_ENDPOINT_TIMEOUT', "Cognito's token endpoint did not answer within 300 ms"));
    await assert.rejects((await service()).revoke('rt'), fails('ERR_TOKEN_ENDPOINT_TIMEOUT', "Cognito's revocation endpoint did not answer within 300 ms"));
    await assert.rejects((await service({ tokenUrl: 'http://127.0.0.1:1/oauth2/token' })).refresh('rt'), fails('ERR_TOKEN_ENDPOINT_UNREACHABLE', "Cognito's token endpoint could not be reached"));
  });

  it('reports an oversized response', async () => {
    answer = () => ({ status: 200, body: { ...GOOD, padding: 'x'.repeat(300 * 1024) } });
    await assert.rejects((await service()).exchangeCode({ code: 'c' }), fails('ERR_TOKEN_RESPONSE_INVALID', "Cognito's token endpoint sent an oversized response"));
  });

  it('reports a 200 whose body is not a JSON object', async () => {
    for (const body of ['<html>', '[1]', 'null', '"text"']) {
      answer = () => ({ status: 200, body });
      await assert.rejects((await service()).exchangeCode({ code: 'c' }), fails('ERR_TOKEN_RESPONSE_INVALID', "Cognito's token endpoint answered 200 with a body that is not a JSON object", { status: 200 }));
    }
  });

  it('refuses to send an empty code or refresh token', async () => {
    const tokens = await service();
    await assert.rejects(tokens.exchangeCode({ code: '' }), fails('ERR_TOKEN_RESPONSE_INVALID', 'exchangeCode() needs a non-empty code'));
    await assert.rejects(tokens.exchangeCode({ code: 42 as unknown as string }), fails('ERR_TOKEN_RESPONSE_INVALID', 'exchangeCode() needs a non-empty code'));
    await assert.rejects(tokens.refresh(''), fails('ERR_TOKEN_RESPONSE_INVALID', 'refresh() needs a non-empty refresh token'));
    await assert.rejects(tokens.refresh(undefined as unknown as string), fails('ERR_TOKEN_RESPONSE_INVALID', 'refresh() needs a non-empty refresh token'));
    assert.equal(server.requests.length, 0);
  });

  const lacking = (fields: string) => `Cognito's token response lacks a valid ${fields}`;
  const responses: [label: string, body: Record<string, unknown>, grant: 'code' | 'refresh', message: string][] = [
    ['no id_token after a code', { ...GOOD, id_token: undefined }, 'code', `${lacking('id_token')} (is "openid" among the scopes?)`],
    ['an empty id_token after a refresh', { ...GOOD, id_token: '' }, 'refresh', `${lacking('id_token')} (is "openid" among the scopes?)`],
    ['no access_token and no expires_in', { ...GOOD, access_token: undefined, expires_in: undefined }, 'refresh', lacking('access_token, expires_in')],
    ['a numeric access_token', { ...GOOD, access_token: 7 }, 'code', lacking('access_token')],
    ['an empty refresh_token', { ...GOOD, refresh_token: '' }, 'code', lacking('refresh_token')],
    ['a numeric refresh_token', { ...GOOD, refresh_token: 1 }, 'refresh', lacking('refresh_token')],
    ['expires_in 0', { ...GOOD, expires_in: 0 }, 'code', lacking('expires_in')],
    ['a fractional expires_in', { ...GOOD, expires_in: 3600.5 }, 'code', lacking('expires_in')],
    ['a fractional expires_in as a string', { ...GOOD, expires_in: '36.5' }, 'code', lacking('expires_in')],
    ['an expires_in that is not a number', { ...GOOD, expires_in: 'soon' }, 'code', lacking('expires_in')],
    ['no token_type', { ...GOOD, token_type: undefined }, 'code', lacking('token_type')],
    ['a numeric token_type', { ...GOOD, token_type: 1 }, 'refresh', lacking('token_type')],
  ];
  for (const [label, body, grant, message] of responses) {
    it(`refuses a token response with ${label}`, async () => {
      answer = () => ({ status: 200, body });
      const tokens = await service();
      const call = grant === 'code' ? tokens.exchangeCode({ code: 'c' }) : tokens.refresh('rt');
      await assert.rejects(call, fails('ERR_TOKEN_RESPONSE_INVALID', message, { status: 200 }));
    });
  }

  it('accepts expires_in as a string, token_type in any case, and a refresh without ID or refresh token', async () => {
    answer = () => ({ status: 200, body: { ...GOOD, expires_in: '1', token_type: 'BEARER' } });
    assert.deepEqual(await (await service()).exchangeCode({ code: 'c' }), { idToken: 'id.token.value', accessToken: 'access.token.value', refreshToken: 'refresh-value', expiresIn: 1, tokenType: 'Bearer' });
    answer = () => ({ status: 200, body: { access_token: 'at', token_type: 'bearer', expires_in: 60 } });
    assert.deepEqual(await (await service()).refresh('rt'), { idToken: '', accessToken: 'at', refreshToken: undefined, expiresIn: 60, tokenType: 'Bearer' });
  });

  it('form-encodes client id and secret before base64 (RFC 6749, 2.3.1)', () => {
    assert.equal(basicAuthorization('id:x', 'a b+/=&%'), `Basic ${Buffer.from('id%3Ax:a+b%2B%2F%3D%26%25').toString('base64')}`);
    assert.equal(basicAuthorization('plain', 'secret'), `Basic ${Buffer.from('plain:secret').toString('base64')}`);
  });

  describe('clientCredentials', () => {
    const freeze = (t: TestContext, now: { value: number }) => t.mock.method(Date, 'now', () => now.value);

    it('asks once per scope set (sorted, without repeats), without a scope when none is given', async () => {
      answer = () => ({ status: 200, body: { access_token: 'machine', token_type: 'Bearer', expires_in: 3600, scope: 'a/x b/y' } });
      const tokens = await service();
      assert.deepEqual(await tokens.clientCredentials(['b/y', 'a/x', 'b/y']), { accessToken: 'machine', expiresIn: 3600, tokenType: 'Bearer', scope: 'a/x b/y' });
      assert.deepEqual(Object.fromEntries(new URLSearchParams(server.requests[0].body)), { grant_type: 'client_credentials', scope: 'a/x b/y' });
      await tokens.clientCredentials(['a/x', 'b/y']);
      assert.equal(server.requests.length, 1);
      answer = () => ({ status: 200, body: { access_token: 'machine', token_type: 'Bearer', expires_in: 3600, scope: 7 } });
      assert.equal((await tokens.clientCredentials()).scope, undefined);
      assert.deepEqual(Object.fromEntries(new URLSearchParams(server.requests[1].body)), { grant_type: 'client_credentials' });
    });

    it('renews a token 60 s before it expires', async (t) => {
      const now = { value: 1_800_000_000_000 };
      freeze(t, now);
      answer = () => ({ status: 200, body: { access_token: `t${server.requests.length}`, token_type: 'Bearer', expires_in: 3600 } });
      const tokens = await service();
      assert.equal((await tokens.clientCredentials(['s/x'])).accessToken, 't1');
      now.value += 3540_000 - 1;
      assert.equal((await tokens.clientCredentials(['s/x'])).accessToken, 't1');
      now.value += 1;
      assert.equal((await tokens.clientCredentials(['s/x'])).accessToken, 't2');
    });

    it('renews a short-lived token halfway through its life', async (t) => {
      const now = { value: 1_800_000_000_000 };
      freeze(t, now);
      answer = () => ({ status: 200, body: { access_token: `t${server.requests.length}`, token_type: 'Bearer', expires_in: 101 } });
      const tokens = await service();
      assert.equal((await tokens.clientCredentials(['s/y'])).accessToken, 't1');
      now.value += 50_000 - 1; // margin ceil(101 / 2) = 51 s: renewed at 50 s
      assert.equal((await tokens.clientCredentials(['s/y'])).accessToken, 't1');
      now.value += 1;
      assert.equal((await tokens.clientCredentials(['s/y'])).accessToken, 't2');
    });

    it('shares one renewal between callers that find the token stale together', async (t) => {
      const now = { value: 1_800_000_000_000 };
      freeze(t, now);
      answer = () => ({ status: 200, body: { access_token: `t${server.requests.length}`, token_type: 'Bearer', expires_in: 3600 } });
      const tokens = await service();
      await tokens.clientCredentials(['s/z']);
      now.value += 3600_000;
      const renewed = await Promise.all([tokens.clientCredentials(['s/z']), tokens.clientCredentials(['s/z']), tokens.clientCredentials(['s/z'])]);
      assert.deepEqual(renewed.map((token) => token.accessToken), ['t2', 't2', 't2']);
      assert.equal(server.requests.length, 2);
    });

    it('refuses a public client with its reason', async () => {
      await assert.rejects(
        (await service({ clientSecret: undefined })).clientCredentials(['x/y']),
        fails('ERR_TOKEN_RESPONSE_INVALID', 'clientCredentials() needs a client secret: Cognito refuses this grant to public clients'),
      );
    });
  });
});
