import { CognitoConfigurationError } from '../errors/configuration.error.js';
import type { CognitoConfig, RedisSettings, TrustedPool } from './cognito-config.js';
import { COGNITO_ENV_NAMES, type CognitoRedisClient } from './cognito-options.interface.js';
import { CLIENT_ID, OptionReader, POOL_ID, REGION } from './option-reader.js';

/** What shapes the module (set when it is imported), never an option the factory returns. */
const MODULE_SHAPE = new Set(['callbackHandler', 'isGlobal', 'imports']);

/**
 * Checks the options, applies defaults and derives the URLs. Throws one
 * `CognitoConfigurationError` that lists every problem, naming the option and its
 * environment variable.
 *
 * @internal
 */
export function resolveCognitoConfig(input: unknown): CognitoConfig {
  if (typeof input !== 'object' || input === null) {
    throw new CognitoConfigurationError(['the options must be an object (did the forRootAsync factory return nothing?)']);
  }
  const read = new OptionReader(input as Record<string, unknown>);

  // --- user pool and region -------------------------------------------------
  const userPoolId = read.requiredString('userPoolId', 'the user pool id, "<region>_<id>" such as "eu-west-2_AbC123xyz"');
  const poolRegion = userPoolId === undefined ? undefined : POOL_ID.exec(userPoolId)?.[1];
  if (userPoolId !== undefined && poolRegion === undefined) {
    read.fail('userPoolId', 'must look like "<region>_<id>", such as "eu-west-2_AbC123xyz"', userPoolId);
  }
  let region = read.optionalString('region');
  if (region !== undefined && !REGION.test(region)) {
    read.fail('region', 'must be an AWS region such as "eu-west-2"', region);
  } else if (region !== undefined && poolRegion !== undefined && region !== poolRegion) {
    read.fail('region', `must match the user pool id's region "${poolRegion}"`, region);
  }
  region ??= poolRegion;

  // --- client ---------------------------------------------------------------
  const clientId = read.requiredString('clientId', "the app client's id");
  if (clientId !== undefined && !CLIENT_ID.test(clientId)) read.fail('clientId', 'must be 1-128 letters, digits, "_" or "+"', clientId);
  const clientSecret = read.optionalString('clientSecret');

  // --- endpoints ------------------------------------------------------------
  const domainInput = read.requiredString('domain', 'the Hosted UI domain, e.g. "myapp.auth.eu-west-2.amazoncognito.com"');
  // A bare host is the Hosted UI over https; a bare loopback host is a local stand-in over http.
  const bareScheme = domainInput !== undefined && /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(domainInput) ? 'http' : 'https';
  const domain = domainInput === undefined ? undefined : read.origin('domain', /^[a-z]+:\/\//i.test(domainInput) ? domainInput : `${bareScheme}://${domainInput}`);
  const tokenUrl = read.url('tokenUrl', read.optionalString('tokenUrl')) ?? (domain && `${domain}/oauth2/token`);
  const issuer =
    read.url('issuer', read.optionalString('issuer'))?.replace(/\/+$/, '') ??
    (region && userPoolId ? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}` : undefined);
  const jwksUri = read.url('jwksUri', read.optionalString('jwksUri')) ?? (issuer && `${issuer}/.well-known/jwks.json`);
  const redirectUri = read.url('redirectUri', read.requiredString('redirectUri', 'the callback URL registered on the app client'));
  if (redirectUri !== undefined && new URL(redirectUri).hash) read.fail('redirectUri', 'must not contain a fragment', redirectUri);

  // --- routes and redirects ------------------------------------------------
  const explicitCallbackPath = read.optionalString('callbackPath');
  const callbackPath = read.route('callbackPath', explicitCallbackPath ?? (redirectUri && new URL(redirectUri).pathname));
  const loginPath = read.route('loginPath', read.optionalString('loginPath') ?? 'auth/login');
  const logoutPath = read.route('logoutPath', read.optionalString('logoutPath') ?? 'auth/logout');
  if (callbackPath !== undefined && callbackPath === loginPath) read.fail('loginPath', 'must differ from callbackPath', loginPath);
  if (logoutPath !== undefined && (logoutPath === loginPath || logoutPath === callbackPath)) {
    read.fail('logoutPath', 'must differ from loginPath and callbackPath', logoutPath);
  }
  const logoutUri = read.url('logoutUri', read.optionalString('logoutUri'));
  const postLogoutRedirect = read.redirect('postLogoutRedirect', read.optionalString('postLogoutRedirect') ?? '/');
  const successRedirect = read.redirect('successRedirect', read.optionalString('successRedirect') ?? '/');
  const errorRedirect = read.redirect('errorRedirect', read.optionalString('errorRedirect') ?? '/');

  // --- secrets, scopes, numbers, trusted pools ----------------------------
  const config = {
    cookieSecrets: read.cookieSecrets(),
    cookieNamePrefix: read.cookieNamePrefix(),
    scopes: read.scopes(),
    jwksCacheTimeoutSeconds: read.integer('jwksCacheTimeout', 300, 1, 7 * 24 * 3600),
    jwksCooldownSeconds: read.integer('jwksCooldownSeconds', 30, 1, 3600),
    jwksStaleSeconds: read.integer('jwksStaleSeconds', 3600, 0, 7 * 24 * 3600),
    verifiedTokenCacheSize: read.integer('verifiedTokenCacheSize', 5000, 0, 1_000_000),
    sessionCacheSize: read.integer('sessionCacheSize', 1250, 0, 1_000_000),
    httpTimeoutMs: read.integer('httpTimeoutMs', 5000, 1, 120_000),
    clockToleranceSeconds: read.integer('clockToleranceSeconds', 5, 0, 300),
    loginTimeoutSeconds: read.integer('loginTimeoutSeconds', 600, 30, 3600),
    sessionRefreshMarginSeconds: read.integer('sessionRefreshMarginSeconds', 60, 0, 3600),
    sessionMaxAgeSeconds: read.integer('sessionMaxAgeSeconds', 30 * 24 * 3600, 60, 10 * 366 * 24 * 3600),
    sessionIncludeIdToken: read.boolean('sessionIncludeIdToken', false),
    tokenSources: read.sources('tokenSources', ['header', 'cookie'] as const),
    wsTokenSources: read.sources('wsTokenSources', ['handshake', 'header', 'cookie'] as const),
    trustedOrigins: read.origins('trustedOrigins'),
    csrfProtection: read.boolean('csrfProtection', true),
  };
  const redis = redisSettings(read);
  const sessionStore = read.optionalString('sessionStore') ?? 'cookie';
  if (sessionStore !== 'cookie' && sessionStore !== 'redis') read.fail('sessionStore', 'must be "cookie" or "redis"', sessionStore);
  else if (sessionStore === 'redis' && redis === undefined) read.fail('sessionStore', 'is "redis", which needs redisUrl or redis');
  const additionalClientIds = read.stringList('additionalClientIds', CLIENT_ID, 'app client ids');
  const otherPools = additionalPools(read, issuer);

  for (const key of Object.keys(input)) {
    if (key in COGNITO_ENV_NAMES || key === 'redis') continue;
    if (MODULE_SHAPE.has(key)) {
      read.problems.push(`${key} is not an option the factory can return: with forRootAsync, pass it beside useFactory (forRootAsync({ useFactory, inject, ${key} }))`);
    } else {
      read.problems.push(`${key} is not an option of CognitoModule (misspelled?)`);
    }
  }
  if (read.problems.length > 0) throw new CognitoConfigurationError(read.problems);

  return {
    ...config,
    redis,
    sessionStore: sessionStore as 'cookie' | 'redis',
    cookieSecrets: config.cookieSecrets!,
    cookieNamePrefix: config.cookieNamePrefix!,
    scopes: config.scopes!,
    tokenSources: config.tokenSources!,
    wsTokenSources: config.wsTokenSources!,
    userPoolId: userPoolId!,
    region: region!,
    clientId: clientId!,
    clientSecret,
    domain: domain!,
    authorizeUrl: `${domain}/oauth2/authorize`,
    tokenUrl: tokenUrl!,
    revokeUrl: `${domain}/oauth2/revoke`,
    logoutEndpoint: `${domain}/logout`,
    issuer: issuer!,
    jwksUri: jwksUri!,
    trustedPools: [{ issuer: issuer!, jwksUri: jwksUri!, clientIds: [clientId!, ...additionalClientIds] }, ...otherPools],
    redirectUri: redirectUri!,
    appOrigin: new URL(redirectUri!).origin,
    secureCookies: new URL(redirectUri!).protocol === 'https:',
    callbackPath: callbackPath!,
    callbackPathFromOption: explicitCallbackPath !== undefined,
    loginPath: loginPath!,
    logoutPath: logoutPath!,
    logoutUri,
    postLogoutRedirect: postLogoutRedirect!,
    successRedirect: successRedirect!,
    errorRedirect: errorRedirect!,
  };
}

/** `redisUrl` or `redis` (one of them), with the key prefix and the stale window; `undefined` without Redis. */
function redisSettings(read: OptionReader): RedisSettings | undefined {
  const url = read.optionalString('redisUrl');
  const client = read.options.redis;
  const keyPrefix = read.optionalString('keyPrefix') ?? 'cognito:';
  if (!/^[\x21-\x7e]{1,100}$/.test(keyPrefix)) read.fail('keyPrefix', 'must be 1-100 printable characters without spaces', keyPrefix);
  const staleSeconds = read.integer('redisStaleSeconds', 30, 1, 10 * 366 * 24 * 3600);
  if (url !== undefined && client !== undefined && client !== null) {
    read.fail('redis', 'and redisUrl are both set: pass one of them');
    return undefined;
  }
  if (url !== undefined) {
    let scheme: string | undefined;
    try {
      scheme = new URL(url).protocol;
    } catch {
      // reported below
    }
    if (scheme !== 'redis:' && scheme !== 'rediss:') {
      read.fail('redisUrl', 'must be a redis:// or rediss:// URL', url);
      return undefined;
    }
    return { url, keyPrefix, staleSeconds };
  }
  if (client === undefined || client === null) return undefined;
  const looksLikeClient = typeof client === 'object' && typeof (client as { duplicate?: unknown }).duplicate === 'function' && typeof (client as { on?: unknown }).on === 'function';
  if (!looksLikeClient) {
    read.fail('redis', 'must be an ioredis client (new Redis(…) or new Cluster(…))', client);
    return undefined;
  }
  return { client: client as CognitoRedisClient, keyPrefix, staleSeconds };
}

/** Further pools from `additionalUserPools` (objects, or JSON from the environment). */
function additionalPools(read: OptionReader, mainIssuer: string | undefined): TrustedPool[] {
  let value = read.options.additionalUserPools;
  if (value === undefined || value === null || value === '') return [];
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      read.fail('additionalUserPools', 'must be a JSON list of { userPoolId, clientIds } objects');
      return [];
    }
  }
  if (!Array.isArray(value)) {
    read.fail('additionalUserPools', 'must be a list of { userPoolId, clientIds } objects');
    return [];
  }
  const pools: TrustedPool[] = [];
  value.forEach((entry: unknown, index: number) => {
    const { userPoolId: id, region: poolRegionOption, issuer: poolIssuer, jwksUri: poolJwks, clientIds } = (entry ?? {}) as Record<string, unknown>;
    const where = `entry ${index + 1}`;
    const prefix = typeof id === 'string' ? POOL_ID.exec(id)?.[1] : undefined;
    const ids = Array.isArray(clientIds) && clientIds.length > 0 && clientIds.every((item) => typeof item === 'string' && CLIENT_ID.test(item)) ? (clientIds as string[]) : undefined;
    if (prefix === undefined || ids === undefined || (poolRegionOption !== undefined && poolRegionOption !== prefix)) {
      read.fail('additionalUserPools', `${where} needs a userPoolId "<region>_<id>", a matching region if any, and a non-empty clientIds list`);
      return;
    }
    const resolvedIssuer = typeof poolIssuer === 'string' ? read.url('additionalUserPools', poolIssuer)?.replace(/\/+$/, '') : `https://cognito-idp.${prefix}.amazonaws.com/${id}`;
    const resolvedJwks = typeof poolJwks === 'string' ? read.url('additionalUserPools', poolJwks) : resolvedIssuer && `${resolvedIssuer}/.well-known/jwks.json`;
    if (resolvedIssuer === undefined || resolvedJwks === undefined) return;
    if (resolvedIssuer === mainIssuer || pools.some((pool) => pool.issuer === resolvedIssuer)) {
      read.fail('additionalUserPools', `${where} repeats the issuer ${resolvedIssuer}`);
      return;
    }
    pools.push({ issuer: resolvedIssuer, jwksUri: resolvedJwks, clientIds: ids });
  });
  return pools;
}
