// Direct tests of LoginFlowService, without an HTTP server of ours: the authorize URL a login
// starts with, the parameters it forwards or refuses, and every way a callback ends (the token
// endpoint and the JWKS are real servers on 127.0.0.1).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Injectable, type LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  CognitoModule,
  type CognitoCallbackContext,
  type CognitoCallbackHandler,
  type CognitoCallbackOutcome,
  type CognitoError,
  type CognitoLoginResult,
  type CognitoModuleOptions,
} from '../../lib/index.js';
import { CookieSealer } from '../../lib/http/cookie-sealer.js';
import { InvalidLoginRequest, LoginFlowService, type FlowStep } from '../../lib/login/login-flow.service.js';
import type { LoginState } from '../../lib/login/login-state.service.js';
import { baseOptions } from '../support/module.js';
import { json, startServer, type ScriptedServer } from '../support/servers.js';
import { makeKey, mint, startJwksServer, type JwksServer, type SigningKey } from '../support/tokens.js';

/** What the application's handler does, set by each test. */
const steer: {
  onSuccess?: (result: CognitoLoginResult, ctx: CognitoCallbackContext) => unknown;
  onError?: (error: CognitoError, ctx: CognitoCallbackContext) => unknown;
  successes: CognitoLoginResult[];
  errors: CognitoError[];
} = { successes: [], errors: [] };

@Injectable()
class SteeredHandler implements CognitoCallbackHandler {
  async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext) {
    steer.successes.push(result);
    return steer.onSuccess?.(result, ctx) as CognitoCallbackOutcome | void;
  }
  async onError(error: CognitoError, ctx: CognitoCallbackContext) {
    steer.errors.push(error);
    return steer.onError?.(error, ctx) as CognitoCallbackOutcome | void;
  }
}

/** A handler without onError: failures go to errorRedirect. */
@Injectable()
class SuccessOnlyHandler implements CognitoCallbackHandler {
  async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext) {
    steer.successes.push(result);
    return steer.onSuccess?.(result, ctx) as CognitoCallbackOutcome | void;
  }
}

/** The module's own log lines (context "CognitoModule"), by level. */
class Lines implements LoggerService {
  lines: [level: string, message: string][] = [];
  private push(level: string, message: unknown, context: unknown) {
    if (context === 'CognitoModule') this.lines.push([level, String(message)]);
  }
  log(message: unknown, context?: unknown) { this.push('log', message, context); }
  error(message: unknown, ...rest: unknown[]) { this.push('error', message, rest.at(-1)); }
  warn(message: unknown, context?: unknown) { this.push('warn', message, context); }
  debug(message: unknown, context?: unknown) { this.push('debug', message, context); }
  verbose(message: unknown, context?: unknown) { this.push('verbose', message, context); }
}

interface Flow {
  moduleRef: TestingModule;
  flow: LoginFlowService;
  sealer: CookieSealer;
}

/** Nest's Logger is global: the last module compiled gets every line, so all share one. */
const logger = new Lines();

async function compile(overrides: Partial<CognitoModuleOptions> = {}, handler: typeof SteeredHandler | typeof SuccessOnlyHandler = SteeredHandler): Promise<Flow> {
  logger.lines = [];
  const moduleRef = await Test.createTestingModule({
    imports: [CognitoModule.forRoot({ ...baseOptions({ errorRedirect: '/login-error', successRedirect: '/welcome', ...overrides }), callbackHandler: handler })],
  })
    .setLogger(logger)
    .compile();
  return { moduleRef, flow: moduleRef.get(LoginFlowService), sealer: moduleRef.get(CookieSealer) };
}

/** A top-level navigation, as a browser sends it for a link. */
const NAVIGATION = { headers: { 'sec-fetch-dest': 'document', 'sec-fetch-site': 'cross-site' } };

describe('LoginFlowService.start', () => {
  let f: Flow;
  before(async () => {
    f = await compile({ scopes: ['openid', 'email'] });
  });
  after(() => f.moduleRef.close());

  async function opened(step: FlowStep): Promise<LoginState> {
    const [pair] = step.cookies[0].split(';');
    return (await f.sealer.open('login-state', pair.slice(pair.indexOf('=') + 1))) as LoginState;
  }

  it('redirects to /oauth2/authorize with code, PKCE S256, state and nonce, and seals them in the login cookie', async () => {
    const step = await f.flow.start(NAVIGATION, {});
    const url = new URL(step.redirectTo!);
    assert.equal(`${url.origin}${url.pathname}`, 'https://example.auth.eu-west-2.amazoncognito.com/oauth2/authorize');
    const login = await opened(step);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      response_type: 'code',
      client_id: 'testclient123',
      redirect_uri: 'https://app.example.com/auth/callback',
      scope: 'openid email',
      state: login.state,
      code_challenge: createHash('sha256').update(login.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
      nonce: login.nonce,
    });
    assert.equal(login.redirectUri, 'https://app.example.com/auth/callback');
    assert.equal(login.returnTo, undefined);
    // 32 random bytes for state and nonce, 48 for the verifier (RFC 7636: 43 to 128 characters).
    assert.match(login.state, /^[\w-]{43}$/);
    assert.match(login.nonce, /^[\w-]{43}$/);
    assert.match(login.codeVerifier, /^[\w-]{64}$/);
    assert.equal(step.cookies.length, 1);
  });

  it('makes new values for every login', async () => {
    const [a, b] = [await opened(await f.flow.start(NAVIGATION, {})), await opened(await f.flow.start(NAVIGATION, {}))];
    assert.notEqual(a.state, b.state);
    assert.notEqual(a.nonce, b.nonce);
    assert.notEqual(a.codeVerifier, b.codeVerifier);
    assert.notEqual(a.state, a.nonce);
  });

  it('keeps a sanitised returnTo, and drops one that leaves the site or is repeated', async () => {
    assert.equal((await opened(await f.flow.start(NAVIGATION, { returnTo: '/a/../orders?x=1' }))).returnTo, '/orders?x=1');
    assert.equal((await opened(await f.flow.start(NAVIGATION, { returnTo: '//evil.example' }))).returnTo, undefined);
    assert.equal((await opened(await f.flow.start(NAVIGATION, { returnTo: ['/a', '/b'] }))).returnTo, undefined);
  });

  const allowed: [header: Record<string, string>][] = [
    [{}],
    [{ 'sec-fetch-dest': 'document', 'sec-fetch-site': 'cross-site' }],
    [{ 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin' }],
    [{ 'sec-fetch-dest': 'iframe', 'sec-fetch-site': 'none' }],
  ];
  for (const [headers] of allowed) {
    it(`starts a login for ${JSON.stringify(headers)}`, async () => {
      assert.ok((await f.flow.start({ headers }, {})).redirectTo);
    });
  }

  it('refuses a login started by an image, frame or script of another site', async () => {
    for (const headers of [
      { 'sec-fetch-dest': 'image', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-dest': 'iframe', 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'cross-site' },
    ]) {
      await assert.rejects(f.flow.start({ headers }, {}), (error: unknown) => {
        assert.ok(error instanceof InvalidLoginRequest);
        assert.equal(error.message, 'A login starts with a top-level navigation (a link or a redirect), not from an image, frame or script of another site');
        return true;
      });
    }
  });

  const forwarded: [name: string, value: string][] = [
    ['identity_provider', 'Google'],
    ['identity_provider', 'My SAML:idp-1.x_y'],
    ['identity_provider', 'a'.repeat(128)],
    ['idp_identifier', 'example.com'],
    ['idp_identifier', 'user@corp-1.example_x'],
    ['idp_identifier', 'b'.repeat(128)],
    ['lang', 'en'],
    ['lang', 'fra'],
    ['lang', 'pt-BR'],
    ['lang', 'zh-Hant-TW'],
    ['lang', 'en-abcdefgh'],
    ['lang', 'de-99'],
    ['login_hint', 'alice@example.com'],
    ['login_hint', 'a b~\u00e9'],
    ['login_hint', 'h'.repeat(256)],
    ['prompt', 'none'],
    ['prompt', 'login'],
    ['prompt', 'select_account'],
    ['prompt', 'consent'],
    ['prompt', 'login consent'],
    ['prompt', 'none select_account consent'],
  ];
  for (const [name, value] of forwarded) {
    it(`forwards ${name}=${JSON.stringify(value.length > 20 ? `${value.slice(0, 8)}…(${value.length})` : value)}`, async () => {
      const url = new URL((await f.flow.start(NAVIGATION, { [name]: value })).redirectTo!);
      assert.equal(url.searchParams.get(name), value);
    });
  }

  const refused: [name: string, value: unknown][] = [
    ['identity_provider', ''],
    ['identity_provider', 'a'.repeat(129)],
    ['identity_provider', 'Google/evil'],
    ['identity_provider', 'Google\n'],
    ['identity_provider', ['Google', 'Facebook']],
    ['identity_provider', ['Google']],
    ['lang', ['en']],
    ['idp_identifier', ''],
    ['idp_identifier', 'b'.repeat(129)],
    ['idp_identifier', 'example com'],
    ['idp_identifier', 'a:b'],
    ['lang', ''],
    ['lang', 'e'],
    ['lang', 'engl'],
    ['lang', 'en-'],
    ['lang', 'en-a'],
    ['lang', 'en-abcdefghi'],
    ['lang', 'en_US'],
    ['lang', '1en'],
    ['lang', 'x-en'],
    ['lang', 'en-US '],
    ['login_hint', ''],
    ['login_hint', 'h'.repeat(257)],
    ['login_hint', 'a\nb'],
    ['login_hint', 'a\u0000b'],
    ['login_hint', 'a\u001Fb'],
    ['login_hint', 'a\u007Fb'],
    ['prompt', ''],
    ['prompt', 'LOGIN'],
    ['prompt', 'login none'],
    ['prompt', 'login  consent'],
    ['prompt', 'login '],
    ['prompt', ' login'],
    ['prompt', 'nonesuch'],
    ['prompt', 'xlogin'],
    ['prompt', 'login consentx'],
  ];
  for (const [name, value] of refused) {
    it(`refuses ${name}=${JSON.stringify(typeof value === 'string' && value.length > 20 ? `${value.slice(0, 8)}…(${value.length})` : value)}`, async () => {
      await assert.rejects(f.flow.start(NAVIGATION, { [name]: value }), (error: unknown) => {
        assert.ok(error instanceof InvalidLoginRequest);
        assert.equal(error.message, `Invalid login parameter: ${name}`);
        return true;
      });
    });
  }

  it('names every refused parameter at once, in a plural message', async () => {
    await assert.rejects(f.flow.start(NAVIGATION, { lang: 'e', prompt: 'x', identity_provider: 'Google' }), {
      message: 'Invalid login parameters: lang, prompt',
    });
  });

  it('forwards nothing it was not given, and ignores other parameters', async () => {
    const url = new URL((await f.flow.start(NAVIGATION, { foo: 'bar', scope: 'aws.cognito.signin.user.admin' })).redirectTo!);
    assert.equal(url.searchParams.get('foo'), null);
    assert.equal(url.searchParams.get('scope'), 'openid email');
    for (const name of ['identity_provider', 'idp_identifier', 'lang', 'login_hint', 'prompt']) assert.equal(url.searchParams.has(name), false);
    assert.ok((await f.flow.start(NAVIGATION, undefined)).redirectTo);
  });
});

// The startup line moved to CognitoRoutes (lib/cognito.routes.ts): test/routes.e2e.test.ts checks it.

describe('LoginFlowService.finish', () => {
  let key: SigningKey;
  let jwks: JwksServer;
  let tokenServer: ScriptedServer;
  /** The nonce Cognito puts in the ID token (by default the one the login sent). */
  let nonceOf: (sent: string) => string | undefined;
  let sentNonce = '';
  let respond: (res: Parameters<Parameters<typeof startServer>[0]>[1]) => Promise<void>;
  let f: Flow;
  let bare: Flow;

  const goodTokens = async () => ({
    id_token: await mint(key, jwks.issuer, 'id', { nonce: nonceOf(sentNonce) }),
    access_token: await mint(key, jwks.issuer, 'access'),
    refresh_token: 'refresh-token-value',
    token_type: 'Bearer',
    expires_in: 3600,
  });

  before(async () => {
    key = makeKey('flow-key');
    jwks = await startJwksServer([key]);
    tokenServer = await startServer((_req, res) => respond(res));
    const options = { issuer: jwks.issuer, tokenUrl: `${tokenServer.url}/oauth2/token`, httpTimeoutMs: 2000 };
    f = await compile(options);
    bare = await compile(options, SuccessOnlyHandler);
  });
  after(async () => {
    await f.moduleRef.close();
    await bare.moduleRef.close();
    await tokenServer.close();
    await jwks.close();
  });
  beforeEach(() => {
    steer.onSuccess = undefined;
    steer.onError = undefined;
    steer.successes = [];
    steer.errors = [];
    nonceOf = (sent) => sent;
    respond = async (res) => json(res, 200, await goodTokens());
    logger.lines = [];
  });

  /** Starts a login and returns the callback's request, with the login cookie and the state. */
  async function started(on: Flow, query: Record<string, unknown> = {}) {
    const step = await on.flow.start(NAVIGATION, query);
    const url = new URL(step.redirectTo!);
    sentNonce = url.searchParams.get('nonce')!;
    const [pair] = step.cookies[0].split(';');
    return { request: { headers: { cookie: pair } }, state: url.searchParams.get('state')!, challenge: url.searchParams.get('code_challenge')!, cookieName: pair.split('=')[0] };
  }

  async function callback(on: Flow, query: (state: string) => Record<string, unknown>, options: { isAnswered?: () => boolean; start?: Record<string, unknown> } = {}) {
    const { request, state, challenge, cookieName } = await started(on, options.start);
    const ctx = { request, response: {} };
    const step = await on.flow.finish(ctx, query(state), options.isAnswered ?? (() => false));
    return { step, challenge, cookieName, ctx };
  }
  const clearOf = (cookieName: string) => [`${cookieName}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure`];

  it('exchanges the code with the login’s verifier and redirect URI, and hands verified claims to the handler', async () => {
    const { step, challenge, cookieName, ctx } = await callback(f, (state) => ({ code: 'the-code', state }), { start: { returnTo: '/orders' } });
    const form = new URLSearchParams(tokenServer.requests.at(-1)!.body);
    assert.equal(form.get('code'), 'the-code');
    assert.equal(form.get('redirect_uri'), 'https://app.example.com/auth/callback');
    assert.equal(createHash('sha256').update(form.get('code_verifier')!).digest('base64url'), challenge);
    assert.equal(steer.successes.length, 1);
    const [result] = steer.successes;
    assert.equal(result.idToken.token_use, 'id');
    assert.equal(result.idToken.nonce, sentNonce);
    assert.equal(result.accessToken.token_use, 'access');
    assert.equal(result.tokens.refreshToken, 'refresh-token-value');
    assert.equal(result.returnTo, '/orders');
    assert.deepEqual(step, { cookies: clearOf(cookieName), redirectTo: '/orders' });
    assert.equal(ctx.response && Object.keys(ctx.response).length, 0);
    assert.deepEqual(logger.lines, []);
  });

  it('goes to successRedirect without a returnTo', async () => {
    const { step } = await callback(f, (state) => ({ code: 'c', state }));
    assert.equal(step.redirectTo, '/welcome');
  });

  it('goes where the handler says, resolved', async () => {
    steer.onSuccess = () => ({ redirectTo: '/next/../done' });
    assert.equal((await callback(f, (state) => ({ code: 'c', state }), { start: { returnTo: '/orders' } })).step.redirectTo, '/done');
    steer.onSuccess = () => ({ redirectTo: 'https://other.example/x' });
    assert.equal((await callback(f, (state) => ({ code: 'c', state }))).step.redirectTo, 'https://other.example/x');
    steer.onSuccess = () => ({});
    assert.equal((await callback(f, (state) => ({ code: 'c', state }), { start: { returnTo: '/orders' } })).step.redirectTo, '/orders');
  });

  it('sends nothing more when the handler answered the request itself', async () => {
    steer.onSuccess = () => ({ redirectTo: '/ignored' });
    const { step, cookieName } = await callback(f, (state) => ({ code: 'c', state }), { isAnswered: () => true });
    assert.deepEqual(step, { cookies: clearOf(cookieName), redirectTo: undefined });
  });

  it('treats a redirectTo that is neither a path nor an http(s) URL as a handler failure', async () => {
    steer.onSuccess = () => ({ redirectTo: 'javascript:alert(1)' });
    const { step, cookieName } = await callback(f, (state) => ({ code: 'c', state }));
    assert.deepEqual(step, { cookies: clearOf(cookieName), redirectTo: '/login-error?error=handler_failed' });
    assert.equal(steer.errors[0].code, 'ERR_CALLBACK_HANDLER_FAILED');
    assert.ok(steer.errors[0].cause instanceof TypeError);
    assert.equal((steer.errors[0].cause as Error).message, 'onSuccess returned a redirectTo that is not a path or an http(s) URL');
    assert.deepEqual(logger.lines, [['error', 'Login failed: ERR_CALLBACK_HANDLER_FAILED: The application callback handler failed (cause: TypeError)']]);
  });

  const failures: [label: string, query: (state: string) => Record<string, unknown>, reason: string, code: string][] = [
    ['no state', () => ({ code: 'c' }), 'missing_state', 'ERR_CALLBACK_MISSING_STATE'],
    ['another state', () => ({ code: 'c', state: 'forged' }), 'state_mismatch', 'ERR_STATE_MISMATCH'],
    ['no code', (state) => ({ state }), 'missing_code', 'ERR_CALLBACK_MISSING_CODE'],
    ['an empty code', (state) => ({ state, code: '' }), 'missing_code', 'ERR_CALLBACK_MISSING_CODE'],
    ['a repeated code', (state) => ({ state, code: ['a', 'b'] }), 'missing_code', 'ERR_CALLBACK_MISSING_CODE'],
    ['an authorization error', (state) => ({ state, error: 'access_denied', error_description: 'User said no', code: 'c' }), 'access_denied', 'ERR_AUTHORIZATION_RESPONSE'],
  ];
  for (const [label, query, reason, code] of failures) {
    it(`sends ${label} to errorRedirect?error=${reason}, with a warning, and never calls the token endpoint`, async () => {
      const before = tokenServer.requests.length;
      const { step } = await callback(bare, query);
      assert.equal(step.redirectTo, `/login-error?error=${reason}`);
      assert.equal(tokenServer.requests.length, before);
      assert.equal(steer.successes.length, 0);
      assert.equal(logger.lines.length, 1);
      assert.equal(logger.lines[0][0], 'warn');
      assert.match(logger.lines[0][1], new RegExp(`^Login failed: ${code}: [A-Z]`));
    });
  }

  it('passes Cognito’s error and description to onError', async () => {
    await callback(f, (state) => ({ state, error: 'access_denied', error_description: 'User said no' }));
    assert.equal(steer.errors.length, 1);
    const [error] = steer.errors as (CognitoError & { oauthError?: string; description?: string })[];
    assert.equal(error.code, 'ERR_AUTHORIZATION_RESPONSE');
    assert.equal(error.oauthError, 'access_denied');
    assert.equal(error.description, 'User said no');
    assert.deepEqual(logger.lines, [['warn', 'Login failed: ERR_AUTHORIZATION_RESPONSE: Cognito returned an authorization error: access_denied']]);
  });

  it('refuses an ID token whose nonce is not the login’s', async () => {
    nonceOf = () => 'another-nonce';
    const { step } = await callback(f, (state) => ({ code: 'c', state }));
    assert.equal(steer.successes.length, 0);
    assert.match(step.redirectTo!, /^\/login-error\?error=/);
    assert.match(steer.errors[0].code, /^ERR_JWT_/);
  });

  it('refuses an access token that does not verify', async () => {
    respond = async (res) => json(res, 200, { ...(await goodTokens()), access_token: await mint(key, jwks.issuer, 'access', { client_id: 'someone-else' }) });
    const { step } = await callback(f, (state) => ({ code: 'c', state }));
    assert.equal(steer.successes.length, 0);
    assert.match(step.redirectTo!, /^\/login-error\?error=/);
    assert.match(steer.errors[0].code, /^ERR_JWT_/);
  });

  it('reports a token endpoint failure', async () => {
    respond = async (res) => json(res, 400, { error: 'invalid_grant' });
    const { step } = await callback(bare, (state) => ({ code: 'c', state }));
    assert.equal(step.redirectTo, '/login-error?error=invalid_grant');
    assert.equal(logger.lines[0][0], 'warn');
  });

  it('wraps a throwing onSuccess, logging its name and code but never its message', async () => {
    steer.onSuccess = () => {
      throw Object.assign(new RangeError('secret-user-data'), { code: 'E_DB.down-1' });
    };
    const { step } = await callback(f, (state) => ({ code: 'c', state }));
    assert.equal(step.redirectTo, '/login-error?error=handler_failed');
    assert.equal(steer.errors[0].code, 'ERR_CALLBACK_HANDLER_FAILED');
    assert.deepEqual(logger.lines, [['error', 'Login failed: ERR_CALLBACK_HANDLER_FAILED: The application callback handler failed (cause: RangeError [E_DB.down-1])']]);
  });

  const causes: [label: string, thrown: () => unknown, described: string][] = [
    ['a numeric code', () => Object.assign(new Error('x'), { code: 404 }), 'Error [404]'],
    ['a code with spaces', () => Object.assign(new Error('x'), { code: 'has spaces' }), 'Error'],
    ['a code of 65 characters', () => Object.assign(new Error('x'), { code: 'c'.repeat(65) }), 'Error'],
    ['a code of 64 characters', () => Object.assign(new Error('x'), { code: 'c'.repeat(64) }), `Error [${'c'.repeat(64)}]`],
    ['an empty code', () => Object.assign(new Error('x'), { code: '' }), 'Error'],
    ['a code object', () => Object.assign(new Error('x'), { code: { toString: () => 'X' } }), 'Error'],
    ['a custom name', () => Object.assign(new Error('x'), { name: 'Db.Error$1-x' }), 'Db.Error$1-x'],
    ['a name with spaces', () => Object.assign(new Error('x'), { name: 'secret user data' }), 'Error'],
    ['a name of 65 characters', () => Object.assign(new Error('x'), { name: 'N'.repeat(65) }), 'Error'],
    ['a name of 64 characters', () => Object.assign(new Error('x'), { name: 'N'.repeat(64) }), 'N'.repeat(64)],
    ['an empty name', () => Object.assign(new Error('x'), { name: '' }), 'Error'],
    ['a name that is not a string', () => Object.assign(new Error('x'), { name: 42 }), 'Error'],
    ['a string', () => 'secret-string', 'string'],
    ['null', () => null, 'object'],
    ['undefined', () => undefined, ''], // no cause to describe
    ['a number', () => 7, 'number'],
    ['a plain object with a code', () => ({ code: 'E1' }), 'object [E1]'],
    [
      'a name getter that throws',
      () => {
        const error = new Error('x');
        Object.defineProperty(error, 'name', { get: () => { throw new Error('boom'); } });
        return error;
      },
      'Error',
    ],
    [
      'a code getter that throws',
      () => {
        const error = new TypeError('x');
        Object.defineProperty(error, 'code', { get: () => { throw new Error('boom'); } });
        return error;
      },
      'TypeError',
    ],
  ];
  for (const [label, thrown, described] of causes) {
    it(`logs a handler failure with ${label} as "${described || 'no cause'}"`, async () => {
      steer.onSuccess = () => {
        throw thrown();
      };
      await callback(bare, (state) => ({ code: 'c', state }));
      const cause = described === '' ? '' : ` (cause: ${described})`;
      assert.deepEqual(logger.lines, [['error', `Login failed: ERR_CALLBACK_HANDLER_FAILED: The application callback handler failed${cause}`]]);
    });
  }

  it('turns an unexpected failure into ERR_LOGIN_UNEXPECTED, logged as an error', async () => {
    let calls = 0;
    const isAnswered = () => {
      calls++;
      if (calls === 1) throw new SyntaxError('unexpected');
      return false;
    };
    const { step } = await callback(f, (state) => ({ code: 'c', state }), { isAnswered });
    assert.equal(step.redirectTo, '/login-error?error=internal_error');
    assert.equal(steer.errors[0].code, 'ERR_LOGIN_UNEXPECTED');
    assert.deepEqual(logger.lines, [['error', 'Login failed: ERR_LOGIN_UNEXPECTED: The login callback failed unexpectedly (cause: SyntaxError)']]);
  });

  it('goes where onError says, resolved; falls back to errorRedirect for a bad or missing answer', async () => {
    steer.onError = () => ({ redirectTo: '/sorry/./again' });
    assert.equal((await callback(f, () => ({ code: 'c' }))).step.redirectTo, '/sorry/again');
    steer.onError = () => ({ redirectTo: 'javascript:alert(1)' });
    assert.equal((await callback(f, () => ({ code: 'c' }))).step.redirectTo, '/login-error?error=missing_state');
    steer.onError = () => undefined;
    assert.equal((await callback(f, () => ({ code: 'c' }))).step.redirectTo, '/login-error?error=missing_state');
    assert.equal(steer.errors.length, 3);
  });

  it('sends nothing more when onError answered the request itself', async () => {
    steer.onError = () => ({ redirectTo: '/sorry' });
    const { step, cookieName } = await callback(f, (state) => ({ state, error: 'access_denied' }), { isAnswered: () => true });
    assert.deepEqual(step, { cookies: clearOf(cookieName), redirectTo: undefined });
  });

  it('falls back to errorRedirect when onError throws, logging only the error’s name', async () => {
    steer.onError = () => {
      throw new RangeError('secret-user-data');
    };
    const { step } = await callback(f, () => ({ code: 'c' }));
    assert.equal(step.redirectTo, '/login-error?error=missing_state');
    assert.deepEqual(logger.lines, [
      ['warn', 'Login failed: ERR_CALLBACK_MISSING_STATE: The callback request has no state parameter'],
      ['error', "The callback handler's onError threw (RangeError); using the error redirect"],
    ]);
  });

  it('sends nothing when onError threw after answering the request', async () => {
    let answered = false;
    steer.onError = () => {
      answered = true;
      throw 'not an error';
    };
    const { step } = await callback(f, () => ({ code: 'c' }), { isAnswered: () => answered });
    assert.equal(step.redirectTo, undefined);
    assert.equal(logger.lines[1][1], "The callback handler's onError threw (string); using the error redirect");
  });
});
