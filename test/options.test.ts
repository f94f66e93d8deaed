import { randomBytes, randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CognitoConfigurationError, cognitoOptionsFromEnv } from '../lib/index.js';
import { resolveCognitoConfig } from '../lib/config/resolve-cognito-config.js';
import { baseOptions, COOKIE_SECRET } from './support/module.js';

function problemsOf(input: unknown): string[] {
  try {
    resolveCognitoConfig(input);
  } catch (error) {
    assert.ok(error instanceof CognitoConfigurationError);
    assert.equal(error.code, 'ERR_CONFIG_INVALID');
    assert.equal(error.message.split('\n').length, error.problems.length + 1, 'the message lists every problem');
    return [...error.problems];
  }
  return assert.fail('the options were accepted');
}

describe('options', () => {
  it('applies defaults and derives the Cognito URLs', () => {
    const config = resolveCognitoConfig(baseOptions());
    assert.equal(config.region, 'eu-west-2');
    assert.equal(config.issuer, 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_TestPool1');
    assert.equal(config.jwksUri, 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_TestPool1/.well-known/jwks.json');
    assert.equal(config.authorizeUrl, 'https://example.auth.eu-west-2.amazoncognito.com/oauth2/authorize');
    assert.equal(config.tokenUrl, 'https://example.auth.eu-west-2.amazoncognito.com/oauth2/token');
    assert.equal(config.callbackPath, 'auth/callback');
    assert.equal(config.loginPath, 'auth/login');
    assert.deepEqual(config.scopes, ['openid', 'email', 'profile']);
    assert.equal(config.jwksCacheTimeoutSeconds, 300);
    assert.equal(config.httpTimeoutMs, 5000);
    assert.equal(config.clockToleranceSeconds, 5);
    assert.equal(config.secureCookies, true);
    assert.equal(config.successRedirect, '/');
    assert.equal(config.logoutPath, 'auth/logout');
    assert.equal(config.logoutEndpoint, 'https://example.auth.eu-west-2.amazoncognito.com/logout');
    assert.equal(config.revokeUrl, 'https://example.auth.eu-west-2.amazoncognito.com/oauth2/revoke');
    assert.equal(config.sessionRefreshMarginSeconds, 60);
    assert.equal(config.sessionMaxAgeSeconds, 2592000);
    assert.equal(config.sessionIncludeIdToken, false);
  });

  it('reads booleans and numbers given as environment strings', () => {
    const config = resolveCognitoConfig(baseOptions({ sessionIncludeIdToken: 'true' as any, sessionRefreshMarginSeconds: '30' as any }));
    assert.equal(config.sessionIncludeIdToken, true);
    assert.equal(config.sessionRefreshMarginSeconds, 30);
  });

  it('accepts a bare Hosted UI host, a custom domain and an explicit issuer', () => {
    assert.equal(resolveCognitoConfig(baseOptions({ domain: 'myapp.auth.eu-west-2.amazoncognito.com' })).domain, 'https://myapp.auth.eu-west-2.amazoncognito.com');
    assert.equal(resolveCognitoConfig(baseOptions({ domain: 'https://login.example.com/' })).authorizeUrl, 'https://login.example.com/oauth2/authorize');
    const config = resolveCognitoConfig(baseOptions({ issuer: 'https://issuer-cognito-idp.eu-west-2.amazonaws.com/eu-west-2_TestPool1/' }));
    assert.equal(config.issuer, 'https://issuer-cognito-idp.eu-west-2.amazonaws.com/eu-west-2_TestPool1');
  });

  it('reports every missing required option at once, with its environment name', () => {
    const problems = problemsOf({});
    const expected = [
      ['userPoolId', 'COGNITO_USER_POOL_ID'],
      ['clientId', 'COGNITO_CLIENT_ID'],
      ['domain', 'COGNITO_HOST'],
      ['redirectUri', 'COGNITO_REDIRECT_URL'],
      ['cookieSecret', 'COGNITO_COOKIE_SECRET'],
    ];
    assert.equal(problems.length, expected.length, problems.join('\n'));
    for (const [option, env] of expected) {
      assert.ok(problems.some((problem) => problem.startsWith(`${option} (${env}) is required`)), `${option} missing from:\n${problems.join('\n')}`);
    }
  });

  it('refuses options that are not an object', () => {
    assert.throws(() => resolveCognitoConfig(undefined), CognitoConfigurationError);
  });

  const invalid: { name: string; overrides: Record<string, unknown>; problem: RegExp }[] = [
    { name: 'a malformed pool id', overrides: { userPoolId: 'TestPool1' }, problem: /^userPoolId \(COGNITO_USER_POOL_ID\) must look like "<region>_<id>".*got "TestPool1"/ },
    { name: "a region that is not the pool's", overrides: { region: 'us-east-1' }, problem: /^region \(COGNITO_USERPOOL_REGION\) must match the user pool id's region "eu-west-2", got "us-east-1"/ },
    { name: 'a malformed region', overrides: { region: 'Europe' }, problem: /^region .* must be an AWS region/ },
    { name: 'a plain-http domain', overrides: { domain: 'http://example.com' }, problem: /^domain \(COGNITO_HOST\) must use https/ },
    { name: 'a domain with a path', overrides: { domain: 'https://example.com/login' }, problem: /^domain .* without path/ },
    { name: 'a redirect URI that is not a URL', overrides: { redirectUri: 'auth/callback' }, problem: /^redirectUri \(COGNITO_REDIRECT_URL\) must be an absolute URL/ },
    { name: 'a plain-http redirect URI off localhost', overrides: { redirectUri: 'http://app.example.com/cb' }, problem: /^redirectUri .* must use https/ },
    { name: 'a redirect URI with a fragment', overrides: { redirectUri: 'https://app.example.com/cb#x' }, problem: /^redirectUri .* fragment/ },
    { name: 'a token URL with credentials', overrides: { tokenUrl: 'https://user:pw@example.com/token' }, problem: /^tokenUrl .* credentials/ },
    { name: 'an issuer that is not a URL', overrides: { issuer: 'cognito' }, problem: /^issuer \(COGNITO_ISSUER\) must be an absolute URL/ },
    { name: 'an off-site error redirect over http', overrides: { errorRedirect: 'http://evil.example/' }, problem: /^errorRedirect .* https/ },
    { name: 'a Django route name as success redirect', overrides: { successRedirect: 'landing:index' }, problem: /^successRedirect \(COGNITO_AUTH_SUCCESS_REDIRECT_URL\) must be a path starting with "\/" or an https URL \(route names/ },
    { name: 'a protocol-relative success redirect', overrides: { successRedirect: '//evil.example' }, problem: /^successRedirect / },
    { name: 'a callback path with ..', overrides: { callbackPath: '/auth/../x' }, problem: /^callbackPath \(COGNITO_CALLBACK_URL_PATH\) must be a plain route path/ },
    { name: 'the same login and callback path', overrides: { loginPath: 'auth/callback' }, problem: /^loginPath .* must differ from callbackPath/ },
    { name: 'scopes without openid', overrides: { scopes: ['email'] }, problem: /^scopes \(COGNITO_SCOPES\) must include "openid"/ },
    { name: 'a scope with a space', overrides: { scopes: ['openid', 'a b'] }, problem: /^scopes .* without spaces/ },
    { name: 'a negative cache timeout', overrides: { jwksCacheTimeout: -1 }, problem: /^jwksCacheTimeout \(COGNITO_PUBLIC_KEYS_CACHE_TIMEOUT\) must be an integer from 1/ },
    // With 0, every made-up kid (or every token) would fetch the key set.
    { name: 'a zero cache timeout', overrides: { jwksCacheTimeout: 0 }, problem: /^jwksCacheTimeout \(COGNITO_PUBLIC_KEYS_CACHE_TIMEOUT\) must be an integer from 1 to \d+, got 0$/ },
    { name: 'a zero cooldown', overrides: { jwksCooldownSeconds: 0 }, problem: /^jwksCooldownSeconds \(COGNITO_JWKS_COOLDOWN_SECONDS\) must be an integer from 1 to \d+, got 0$/ },
    { name: 'a zero cooldown from the environment', overrides: { jwksCooldownSeconds: '0' }, problem: /^jwksCooldownSeconds .* from 1/ },
    { name: 'a trusted origin with a path', overrides: { trustedOrigins: ['https://admin.example.com/app'] }, problem: /^trustedOrigins \(COGNITO_TRUSTED_ORIGINS\) must be a host or an origin/ },
    { name: 'a trusted origin over plain http', overrides: { trustedOrigins: 'https://ok.example.com,http://admin.example.com' }, problem: /^trustedOrigins .* must use https/ },
    { name: 'a CSRF switch that is not a boolean', overrides: { csrfProtection: 'maybe' }, problem: /^csrfProtection \(COGNITO_CSRF_PROTECTION\) must be true or false/ },
    { name: 'a non-numeric timeout from the environment', overrides: { httpTimeoutMs: 'soon' }, problem: /^httpTimeoutMs \(COGNITO_HTTP_TIMEOUT_MS\) must be an integer.*got "soon"/ },
    { name: 'a fractional clock tolerance', overrides: { clockToleranceSeconds: 1.5 }, problem: /^clockToleranceSeconds .* got 1\.5/ },
    { name: 'a short cookie secret', overrides: { cookieSecret: 'too-short-secret' }, problem: /^cookieSecret \(COGNITO_COOKIE_SECRET\) is too short \(16 bytes\): use at least 32 random bytes, e\.g\. .*openssl rand -base64 32/ },
    { name: 'a weak secret in a rotation list', overrides: { cookieSecret: [COOKIE_SECRET, 'weak'] }, problem: /^cookieSecret .* entry 2 is too short/ },
    { name: 'a logout path equal to the login path', overrides: { logoutPath: '/auth/login' }, problem: /^logoutPath \(COGNITO_LOGOUT_PATH\) must differ/ },
    { name: 'a plain-http sign-out URL off localhost', overrides: { logoutUri: 'http://app.example.com/bye' }, problem: /^logoutUri \(COGNITO_LOGOUT_URL\) must use https/ },
    { name: 'a session flag that is not a boolean', overrides: { sessionIncludeIdToken: 'sometimes' }, problem: /^sessionIncludeIdToken \(COGNITO_SESSION_INCLUDE_ID_TOKEN\) must be true or false, got "sometimes"/ },
    { name: 'a session lifetime under a minute', overrides: { sessionMaxAgeSeconds: 5 }, problem: /^sessionMaxAgeSeconds .* from 60/ },
    { name: 'an additional client id with a space', overrides: { additionalClientIds: ['ok', 'not ok'] }, problem: /^additionalClientIds \(COGNITO_ADDITIONAL_CLIENT_IDS\) must be a list of app client ids/ },
    { name: 'additional user pools that are not JSON', overrides: { additionalUserPools: '[{' }, problem: /^additionalUserPools \(COGNITO_ADDITIONAL_USER_POOLS\) must be a JSON list/ },
    { name: 'an additional user pool without clients', overrides: { additionalUserPools: [{ userPoolId: 'eu-west-2_Other1', clientIds: [] }] }, problem: /^additionalUserPools .* entry 1 needs a userPoolId/ },
    { name: 'an additional user pool repeating the main one', overrides: { additionalUserPools: [{ userPoolId: 'eu-west-2_TestPool1', clientIds: ['x'] }] }, problem: /^additionalUserPools .* entry 1 repeats the issuer/ },
    { name: 'a cookie name prefix with a dot', overrides: { cookieNamePrefix: 'a.b' }, problem: /^cookieNamePrefix \(COGNITO_COOKIE_NAME_PREFIX\) must be 1-32 letters/ },
    { name: 'a misspelled option', overrides: { clientSecert: 'x' }, problem: /^clientSecert is not an option of CognitoModule/ },
  ];
  // Long enough, but an attacker holding any sealed cookie could find them offline.
  const guessable: [string, string, RegExp][] = [
    ['"changeme" 8 times', 'changeme'.repeat(8), /is too easy to guess/],
    ['"password" 7 times', 'password'.repeat(7), /is too easy to guess/],
    ['"a" 200 times', 'a'.repeat(200), /is too easy to guess/],
    ['a short pattern repeated', 'Xy9!'.repeat(12), /is too easy to guess/],
    ['a handful of distinct characters', 'abcdabcdbadcdcbaabcdbbccaaddabcdbcadcbdadbca', /is too easy to guess/],
    ['common words run together', 'mysupersecretcookiepasswordforproduction1234', /is too easy to guess/],
    ['the alphabet and digits in order', 'abcdefghijklmnopqrstuvwxyz0123456789', /is too easy to guess/],
    ['a keyboard walk', 'qwertyuiopasdfghjklzxcvbnm1234567890', /is too easy to guess/],
    ['a keyboard walk down the columns', '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.', /is too easy to guess/],
    ['a sentence', 'The quick brown fox jumps over the lazy dog', /is too easy to guess/],
    ['a secret repeated with a counter', 'secret-1-secret-2-secret-3-secret-4-secret-5', /is too easy to guess/],
    // Encoding a weak secret does not make it strong: the decoded bytes are judged too.
    ['base64 of a repeated word', Buffer.from('changeme'.repeat(4)).toString('base64'), /is too easy to guess/],
    ['base64 of a sentence', Buffer.from('test-secret-that-is-long-enough-1234567890').toString('base64'), /is too easy to guess/],
    ['hex of the bytes 0 to 31', Buffer.from(Array.from({ length: 32 }, (_, index) => index)).toString('hex'), /is too easy to guess/],
    ['16 random bytes as hex (32 characters, half the key material)', randomBytes(16).toString('hex'), /is too easy to guess/],
    ['a UUID (16 random bytes)', randomUUID(), /is too easy to guess/],
  ];
  for (const [what, secret, problem] of guessable) {
    it(`refuses a guessable cookie secret: ${what}`, () => {
      const problems = problemsOf(baseOptions({ cookieSecret: secret }));
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0], /^cookieSecret \(COGNITO_COOKIE_SECRET\) is too .*: use at least 32 random bytes, e\.g\. the output of `openssl rand -base64 32`$/);
      assert.match(problems[0], problem);
      assert.ok(!problems[0].includes(secret), 'the secret is never printed');
    });
  }

  it('accepts 32 random bytes in every common encoding, every time', () => {
    for (let round = 0; round < 200; round++) {
      const bytes = randomBytes(32);
      for (const secret of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), bytes.toString('hex').toUpperCase(), randomBytes(48).toString('base64')]) {
        assert.doesNotThrow(() => resolveCognitoConfig(baseOptions({ cookieSecret: secret })), 'a random secret was refused');
      }
    }
  });

  for (const { name, overrides, problem } of invalid) {
    it(`refuses ${name}`, () => {
      const problems = problemsOf(baseOptions(overrides as any));
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0], problem);
    });
  }

  it('never prints a secret in a problem', () => {
    const problems = problemsOf(baseOptions({ cookieSecret: 'hunter2-hunter2', clientSecret: 42 as any }));
    assert.ok(!problems.join('\n').includes('hunter2'));
    assert.ok(problems.some((problem) => problem.startsWith('clientSecret (COGNITO_APP_CLIENT_SECRET) must be a string')));
  });

  it('reads a bare loopback host as http (a local Cognito), any other bare host as https', () => {
    assert.equal(resolveCognitoConfig(baseOptions({ domain: '127.0.0.1:9000' })).domain, 'http://127.0.0.1:9000');
    assert.equal(resolveCognitoConfig(baseOptions({ domain: 'localhost:9229' })).authorizeUrl, 'http://localhost:9229/oauth2/authorize');
    assert.equal(resolveCognitoConfig(baseOptions({ domain: 'myapp.auth.eu-west-2.amazoncognito.com' })).domain, 'https://myapp.auth.eu-west-2.amazoncognito.com');
    assert.equal(resolveCognitoConfig(baseOptions({ domain: '127.0.0.1.evil.example' })).domain, 'https://127.0.0.1.evil.example');
  });

  it('defaults postLogoutRedirect to / and checks it like the other redirects', () => {
    assert.equal(resolveCognitoConfig(baseOptions()).postLogoutRedirect, '/');
    assert.equal(resolveCognitoConfig(baseOptions({ postLogoutRedirect: '/api/bye' })).postLogoutRedirect, '/api/bye');
    assert.match(problemsOf(baseOptions({ postLogoutRedirect: '//evil.example' }))[0], /^postLogoutRedirect \(COGNITO_POST_LOGOUT_REDIRECT_URL\) must be a path/);
  });

  it('allows plain http for localhost and 127.0.0.1, and then drops Secure cookies', () => {
    const config = resolveCognitoConfig(baseOptions({ domain: 'http://127.0.0.1:9229', redirectUri: 'http://localhost:3000/cb' }));
    assert.equal(config.secureCookies, false);
    assert.equal(config.callbackPath, 'cb');
  });

  it('lists the trusted pools: this one first, then the additional ones from options or JSON', () => {
    const config = resolveCognitoConfig(
      baseOptions({ additionalClientIds: 'mobile,cli' as any, additionalUserPools: '[{"userPoolId":"us-east-1_Staff1","clientIds":["bo"]}]' as any }),
    );
    assert.deepEqual(config.trustedPools, [
      { issuer: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_TestPool1', jwksUri: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_TestPool1/.well-known/jwks.json', clientIds: ['testclient123', 'mobile', 'cli'] },
      { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Staff1', jwksUri: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Staff1/.well-known/jwks.json', clientIds: ['bo'] },
    ]);
  });

  it('accepts a list of cookie secrets for rotation', () => {
    const other = randomBytes(32).toString('base64');
    assert.deepEqual(resolveCognitoConfig(baseOptions({ cookieSecret: [COOKIE_SECRET, other] })).cookieSecrets, [COOKIE_SECRET, other]);
  });
});

describe('cognitoOptionsFromEnv', () => {
  it("reads the Django package's environment names", () => {
    const options = cognitoOptionsFromEnv({
      COGNITO_USER_POOL_ID: 'eu-west-2_TestPool1',
      COGNITO_USERPOOL_REGION: 'eu-west-2',
      COGNITO_CLIENT_ID: 'abc',
      COGNITO_APP_CLIENT_SECRET: 'shh',
      COGNITO_HOST: 'myapp.auth.eu-west-2.amazoncognito.com',
      COGNITO_TOKEN_URL: 'https://myapp.auth.eu-west-2.amazoncognito.com/oauth2/token',
      COGNITO_REDIRECT_URL: 'https://app.example.com/accounts/cognito/callback',
      COGNITO_AUTH_SUCCESS_REDIRECT_URL: '/home',
      COGNITO_AUTH_ERROR_REDIRECT_URL: '/oops',
      COGNITO_PUBLIC_KEYS_CACHE_TIMEOUT: '120',
      COGNITO_COOKIE_SECRET: COOKIE_SECRET,
      COGNITO_SCOPES: 'openid email',
    });
    const config = resolveCognitoConfig(options);
    assert.equal(config.clientSecret, 'shh');
    assert.equal(config.callbackPath, 'accounts/cognito/callback');
    assert.equal(config.successRedirect, '/home');
    assert.equal(config.errorRedirect, '/oops');
    assert.equal(config.jwksCacheTimeoutSeconds, 120);
    assert.deepEqual(config.scopes, ['openid', 'email']);
  });

  it('honours the old misspelling COGNIT_CALLBACK_URL_PATH, the correct name winning', () => {
    assert.equal(cognitoOptionsFromEnv({ COGNIT_CALLBACK_URL_PATH: '/old' }).callbackPath, '/old');
    assert.equal(cognitoOptionsFromEnv({ COGNIT_CALLBACK_URL_PATH: '/old', COGNITO_CALLBACK_URL_PATH: '/new' }).callbackPath, '/new');
    assert.equal('callbackPath' in cognitoOptionsFromEnv({}), false);
  });

  it('splits a comma-separated cookie secret list and ignores empty variables', () => {
    const options = cognitoOptionsFromEnv({ COGNITO_COOKIE_SECRET: 'one, two', COGNITO_CLIENT_ID: '  ' });
    assert.deepEqual(options.cookieSecret, ['one', 'two']);
    assert.equal('clientId' in options, false);
  });

  it('reads the token sources of the guard and of WebSocket connections, in order, each once', () => {
    const defaults = resolveCognitoConfig(baseOptions());
    assert.deepEqual(defaults.tokenSources, ['header', 'cookie']);
    assert.deepEqual(defaults.wsTokenSources, ['handshake', 'header', 'cookie']);
    const fromEnv = resolveCognitoConfig(baseOptions(cognitoOptionsFromEnv({ COGNITO_WS_TOKEN_SOURCES: 'cookie, handshake', COGNITO_TOKEN_SOURCES: 'cookie' })));
    assert.deepEqual(fromEnv.wsTokenSources, ['cookie', 'handshake']);
    assert.deepEqual(fromEnv.tokenSources, ['cookie']);
    assert.deepEqual(problemsOf(baseOptions({ wsTokenSources: ['handshake', 'query'] as any })), ['wsTokenSources (COGNITO_WS_TOKEN_SOURCES) must list "handshake", "header", and/or "cookie", each once, got "handshake,query"']);
    assert.deepEqual(problemsOf(baseOptions({ wsTokenSources: ['header', 'header'] })).length, 1);
    assert.deepEqual(problemsOf(baseOptions({ tokenSources: ['handshake'] as any })), ['tokenSources (COGNITO_TOKEN_SOURCES) must list "header" and/or "cookie", each once, got "handshake"']);
  });

  it('needs no Redis by default, and reads the Redis options from options or the environment', () => {
    const defaults = resolveCognitoConfig(baseOptions());
    assert.equal(defaults.redis, undefined);
    assert.equal(defaults.sessionStore, 'cookie');
    const fromEnv = resolveCognitoConfig(
      baseOptions(cognitoOptionsFromEnv({ COGNITO_REDIS_URL: 'rediss://:pw@redis.internal:6380/2', COGNITO_REDIS_KEY_PREFIX: 'shop:', COGNITO_REDIS_STALE_SECONDS: '7', COGNITO_SESSION_STORE: 'redis' })),
    );
    assert.deepEqual(fromEnv.redis, { url: 'rediss://:pw@redis.internal:6380/2', keyPrefix: 'shop:', staleSeconds: 7 });
    assert.equal(fromEnv.sessionStore, 'redis');
    const client = { duplicate: () => client, on: () => client, status: 'ready' };
    assert.deepEqual(resolveCognitoConfig(baseOptions({ redis: client })).redis, { client, keyPrefix: 'cognito:', staleSeconds: 30 });
  });

  it('refuses Redis options that cannot work, never printing the URL (it may hold a password)', () => {
    const url = 'http://:hunter2-secret@redis.internal:6379';
    const problems = problemsOf(baseOptions({ redisUrl: url }));
    assert.deepEqual(problems, ['redisUrl (COGNITO_REDIS_URL) must be a redis:// or rediss:// URL, got a value that is hidden here']);
    assert.deepEqual(problemsOf(baseOptions({ sessionStore: 'redis' })), ['sessionStore (COGNITO_SESSION_STORE) is "redis", which needs redisUrl or redis']);
    assert.deepEqual(problemsOf(baseOptions({ sessionStore: 'memcached' as any })), ['sessionStore (COGNITO_SESSION_STORE) must be "cookie" or "redis", got "memcached"']);
    assert.deepEqual(problemsOf(baseOptions({ redisUrl: 'redis://127.0.0.1:6379', redisStaleSeconds: 0 })), ['redisStaleSeconds (COGNITO_REDIS_STALE_SECONDS) must be an integer from 1 to 316224000, got 0']);
    assert.deepEqual(problemsOf(baseOptions({ redisUrl: 'redis://127.0.0.1:6379', keyPrefix: 'a b' })), ['keyPrefix (COGNITO_REDIS_KEY_PREFIX) must be 1-100 printable characters without spaces, got "a b"']);
    const client = { duplicate: () => client, on: () => client, status: 'ready' };
    assert.deepEqual(problemsOf(baseOptions({ redisUrl: 'redis://127.0.0.1:6379', redis: client })), ['redis and redisUrl are both set: pass one of them']);
    assert.deepEqual(problemsOf(baseOptions({ redis: 'redis://:hunter2-secret@127.0.0.1:6379' as any })), ['redis must be an ioredis client (new Redis(…) or new Cluster(…)), got a value that is hidden here']);
  });
});
