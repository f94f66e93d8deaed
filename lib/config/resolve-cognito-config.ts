import { CognitoConfigurationError } from '../errors/configuration.error.js';
import type { CognitoConfig, TrustedPool } from './cognito-config.js';
import { COGNITO_ENV_NAMES, type CognitoModuleOptions } from './cognito-options.interface.js';

const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const CLIENT_ID = /^[\w+]{1,128}$/;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks the options, applies defaults and derives the URLs. Throws one
 * `CognitoConfigurationError` that lists every problem, naming the option and its
 * environment variable.
 *
 * @internal
 */
export function resolveCognitoConfig(input: unknown): CognitoConfig {
  const problems: string[] = [];
  const options = (typeof input === 'object' && input !== null ? input : {}) as Partial<Record<keyof CognitoModuleOptions, unknown>>;
  if (typeof input !== 'object' || input === null) {
    throw new CognitoConfigurationError(['the options must be an object (did the forRootAsync factory return nothing?)']);
  }

  const fail = (option: keyof CognitoModuleOptions, expected: string, value?: unknown) => {
    const got = value === undefined ? '' : `, got ${describe(option, value)}`;
    problems.push(`${option} (${COGNITO_ENV_NAMES[option]}) ${expected}${got}`);
  };

  const requiredString = (option: keyof CognitoModuleOptions, what: string): string | undefined => {
    const value = options[option];
    if (value === undefined || value === null || value === '') {
      fail(option, `is required: ${what}`);
      return undefined;
    }
    if (typeof value !== 'string') {
      fail(option, `must be a string: ${what}`, value);
      return undefined;
    }
    return value.trim();
  };

  const optionalString = (option: keyof CognitoModuleOptions): string | undefined => {
    const value = options[option];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      fail(option, 'must be a string', value);
      return undefined;
    }
    return value.trim();
  };

  const integer = (option: keyof CognitoModuleOptions, fallback: number, min: number, max: number): number => {
    const value = options[option];
    if (value === undefined || value === null || value === '') return fallback;
    const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
      fail(option, `must be an integer from ${min} to ${max}`, value);
      return fallback;
    }
    return number;
  };

  const boolean = (option: keyof CognitoModuleOptions, fallback: boolean): boolean => {
    const value = options[option];
    if (value === undefined || value === null || value === '') return fallback;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|1|yes)$/i.test(value.trim())) return true;
    if (typeof value === 'string' && /^(false|0|no)$/i.test(value.trim())) return false;
    fail(option, 'must be true or false', value);
    return fallback;
  };

  // --- user pool and region -------------------------------------------------
  const userPoolId = requiredString('userPoolId', 'the user pool id, "<region>_<id>" such as "eu-west-2_AbC123xyz"');
  const poolRegion = userPoolId === undefined ? undefined : POOL_ID.exec(userPoolId)?.[1];
  if (userPoolId !== undefined && poolRegion === undefined) {
    fail('userPoolId', 'must look like "<region>_<id>", such as "eu-west-2_AbC123xyz"', userPoolId);
  }
  let region = optionalString('region');
  if (region !== undefined && !REGION.test(region)) {
    fail('region', 'must be an AWS region such as "eu-west-2"', region);
  } else if (region !== undefined && poolRegion !== undefined && region !== poolRegion) {
    fail('region', `must match the user pool id's region "${poolRegion}"`, region);
  }
  region ??= poolRegion;

  // --- client ---------------------------------------------------------------
  const clientId = requiredString('clientId', "the app client's id");
  if (clientId !== undefined && !CLIENT_ID.test(clientId)) fail('clientId', 'must be 1-128 letters, digits, "_" or "+"', clientId);
  const clientSecret = optionalString('clientSecret');

  // --- endpoints ------------------------------------------------------------
  const domainInput = requiredString('domain', 'the Hosted UI domain, e.g. "myapp.auth.eu-west-2.amazoncognito.com"');
  const domain = domainInput === undefined ? undefined : checkOrigin('domain', /^[a-z]+:\/\//i.test(domainInput) ? domainInput : `https://${domainInput}`);
  const tokenUrl = checkUrl('tokenUrl', optionalString('tokenUrl')) ?? (domain && `${domain}/oauth2/token`);

  const issuerInput = checkUrl('issuer', optionalString('issuer'));
  const issuer =
    issuerInput?.replace(/\/+$/, '') ??
    (region && userPoolId ? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}` : undefined);
  const jwksUri = checkUrl('jwksUri', optionalString('jwksUri')) ?? (issuer && `${issuer}/.well-known/jwks.json`);

  const redirectUri = checkUrl('redirectUri', requiredString('redirectUri', 'the callback URL registered on the app client'));
  if (redirectUri !== undefined && new URL(redirectUri).hash) fail('redirectUri', 'must not contain a fragment', redirectUri);

  // --- routes and redirects ------------------------------------------------
  const callbackPath = checkRoute('callbackPath', optionalString('callbackPath') ?? (redirectUri && new URL(redirectUri).pathname));
  const loginPath = checkRoute('loginPath', optionalString('loginPath') ?? 'auth/login');
  const logoutPath = checkRoute('logoutPath', optionalString('logoutPath') ?? 'auth/logout');
  if (callbackPath !== undefined && callbackPath === loginPath) fail('loginPath', 'must differ from callbackPath', loginPath);
  if (logoutPath !== undefined && (logoutPath === loginPath || logoutPath === callbackPath)) {
    fail('logoutPath', 'must differ from loginPath and callbackPath', logoutPath);
  }
  const logoutUri = checkUrl('logoutUri', optionalString('logoutUri'));
  const successRedirect = checkRedirect('successRedirect', optionalString('successRedirect') ?? '/');
  const errorRedirect = checkRedirect('errorRedirect', optionalString('errorRedirect') ?? '/');

  // --- secrets, scopes, numbers --------------------------------------------
  const cookieSecrets = checkCookieSecrets();
  const scopes = checkScopes();
  const jwksCacheTimeoutSeconds = integer('jwksCacheTimeout', 300, 0, 7 * 24 * 3600);
  const jwksCooldownSeconds = integer('jwksCooldownSeconds', 30, 0, 3600);
  const httpTimeoutMs = integer('httpTimeoutMs', 5000, 1, 120_000);
  const clockToleranceSeconds = integer('clockToleranceSeconds', 5, 0, 300);
  const loginTimeoutSeconds = integer('loginTimeoutSeconds', 600, 30, 3600);
  const sessionRefreshMarginSeconds = integer('sessionRefreshMarginSeconds', 60, 0, 3600);
  const sessionMaxAgeSeconds = integer('sessionMaxAgeSeconds', 30 * 24 * 3600, 60, 10 * 366 * 24 * 3600);
  const sessionIncludeIdToken = boolean('sessionIncludeIdToken', false);
  const tokenSources = checkTokenSources();
  const jwksStaleSeconds = integer('jwksStaleSeconds', 3600, 0, 7 * 24 * 3600);
  const verifiedTokenCacheSize = integer('verifiedTokenCacheSize', 5000, 0, 1_000_000);
  const additionalClientIds = stringList('additionalClientIds', CLIENT_ID, 'app client ids');
  const additionalPools = checkAdditionalPools();

  for (const key of Object.keys(options)) {
    if (!(key in COGNITO_ENV_NAMES)) problems.push(`${key} is not an option of CognitoModule (misspelled?)`);
  }

  if (problems.length > 0) throw new CognitoConfigurationError(problems);

  return {
    userPoolId: userPoolId!,
    region: region!,
    clientId: clientId!,
    clientSecret,
    domain: domain!,
    authorizeUrl: `${domain}/oauth2/authorize`,
    tokenUrl: tokenUrl!,
    issuer: issuer!,
    jwksUri: jwksUri!,
    redirectUri: redirectUri!,
    callbackPath: callbackPath!,
    loginPath: loginPath!,
    successRedirect: successRedirect!,
    errorRedirect: errorRedirect!,
    jwksCacheTimeoutSeconds,
    jwksCooldownSeconds,
    cookieSecrets: cookieSecrets!,
    secureCookies: new URL(redirectUri!).protocol === 'https:',
    scopes: scopes!,
    httpTimeoutMs,
    clockToleranceSeconds,
    loginTimeoutSeconds,
    revokeUrl: `${domain}/oauth2/revoke`,
    logoutEndpoint: `${domain}/logout`,
    logoutUri,
    logoutPath: logoutPath!,
    sessionRefreshMarginSeconds,
    sessionMaxAgeSeconds,
    sessionIncludeIdToken,
    tokenSources: tokenSources!,
    trustedPools: [{ issuer: issuer!, jwksUri: jwksUri!, clientIds: [clientId!, ...additionalClientIds] }, ...additionalPools],
    jwksStaleSeconds,
    verifiedTokenCacheSize,
  };

  /** https everywhere; plain http only for loopback hosts (local development and tests). */
  function checkUrl(option: keyof CognitoModuleOptions, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      fail(option, 'must be an absolute URL', value);
      return undefined;
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
      if (url.username || url.password) {
        fail(option, 'must not contain credentials');
        return undefined;
      }
      return value;
    }
    fail(option, 'must use https (plain http is allowed only for localhost and 127.0.0.1)', value);
    return undefined;
  }

  function checkOrigin(option: keyof CognitoModuleOptions, value: string): string | undefined {
    const checked = checkUrl(option, value);
    if (checked === undefined) return undefined;
    const url = new URL(checked);
    if (url.pathname !== '/' || url.search || url.hash) {
      fail(option, 'must be a host or an origin without path, query or fragment', value);
      return undefined;
    }
    return url.origin;
  }

  function checkRoute(option: keyof CognitoModuleOptions, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const route = value.replace(/^\/+/, '').replace(/\/+$/, '');
    if (route === '' || !/^[\w\-./~]+$/.test(route) || route.split('/').some((segment) => segment === '..' || segment === '.')) {
      fail(option, 'must be a plain route path such as "auth/callback"', value);
      return undefined;
    }
    return route;
  }

  function checkRedirect(option: keyof CognitoModuleOptions, value: string): string | undefined {
    if (value.startsWith('/') && !value.startsWith('//') && !value.includes('\\')) return value;
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      fail(option, 'must be a path starting with "/" or an https URL (route names such as "landing:index" are not supported)', value);
      return undefined;
    }
    return checkUrl(option, value);
  }

  function checkCookieSecrets(): string[] | undefined {
    const value = options.cookieSecret;
    const list = typeof value === 'string' ? [value] : value;
    if (list === undefined || list === null || list === '' || (Array.isArray(list) && list.length === 0)) {
      fail('cookieSecret', 'is required: at least 32 random bytes, e.g. the output of `openssl rand -base64 32`');
      return undefined;
    }
    if (!Array.isArray(list) || list.some((secret) => typeof secret !== 'string')) {
      fail('cookieSecret', 'must be a string or a list of strings');
      return undefined;
    }
    const weak = list.findIndex((secret: string) => estimateEntropyBits(secret) < 256);
    if (weak !== -1) {
      // Never print the secret itself.
      fail(
        'cookieSecret',
        `${list.length > 1 ? `entry ${weak + 1} ` : ''}is too weak: it needs at least 32 random bytes, e.g. \`openssl rand -base64 32\` (length ${list[weak].length})`,
      );
      return undefined;
    }
    return list.map((secret: string) => secret);
  }

  function stringList(option: keyof CognitoModuleOptions, pattern: RegExp, what: string): string[] {
    const value = options[option];
    if (value === undefined || value === null || value === '') return [];
    const list = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || !pattern.test(item))) {
      fail(option, `must be a list of ${what}`, Array.isArray(value) ? value.join(',') : value);
      return [];
    }
    return list as string[];
  }

  function checkAdditionalPools(): TrustedPool[] {
    let value = options.additionalUserPools;
    if (value === undefined || value === null || value === '') return [];
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        fail('additionalUserPools', 'must be a JSON list of { userPoolId, clientIds } objects');
        return [];
      }
    }
    if (!Array.isArray(value)) {
      fail('additionalUserPools', 'must be a list of { userPoolId, clientIds } objects');
      return [];
    }
    const pools: TrustedPool[] = [];
    value.forEach((entry: unknown, index: number) => {
      const { userPoolId: id, region: poolRegionOption, issuer: poolIssuer, jwksUri: poolJwks, clientIds } = (entry ?? {}) as Record<string, unknown>;
      const where = `entry ${index + 1}`;
      const prefix = typeof id === 'string' ? POOL_ID.exec(id)?.[1] : undefined;
      const ids = Array.isArray(clientIds) && clientIds.length > 0 && clientIds.every((item) => typeof item === 'string' && CLIENT_ID.test(item)) ? (clientIds as string[]) : undefined;
      if (prefix === undefined || ids === undefined || (poolRegionOption !== undefined && poolRegionOption !== prefix)) {
        fail('additionalUserPools', `${where} needs a userPoolId "<region>_<id>", a matching region if any, and a non-empty clientIds list`);
        return;
      }
      const resolvedIssuer = typeof poolIssuer === 'string' ? checkUrl('additionalUserPools', poolIssuer)?.replace(/\/+$/, '') : `https://cognito-idp.${prefix}.amazonaws.com/${id}`;
      const resolvedJwks = typeof poolJwks === 'string' ? checkUrl('additionalUserPools', poolJwks) : resolvedIssuer && `${resolvedIssuer}/.well-known/jwks.json`;
      if (resolvedIssuer === undefined || resolvedJwks === undefined) return;
      if (resolvedIssuer === issuer || pools.some((pool) => pool.issuer === resolvedIssuer)) {
        fail('additionalUserPools', `${where} repeats the issuer ${resolvedIssuer}`);
        return;
      }
      pools.push({ issuer: resolvedIssuer, jwksUri: resolvedJwks, clientIds: ids });
    });
    return pools;
  }

  function checkTokenSources(): ('header' | 'cookie')[] | undefined {
    const value = options.tokenSources;
    if (value === undefined || value === null || value === '') return ['header', 'cookie'];
    const list = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
    if (!Array.isArray(list) || list.length === 0 || list.some((source) => source !== 'header' && source !== 'cookie') || new Set(list).size !== list.length) {
      fail('tokenSources', 'must list "header" and/or "cookie", each once', Array.isArray(value) ? value.join(',') : value);
      return undefined;
    }
    return list as ('header' | 'cookie')[];
  }

  function checkScopes(): string[] | undefined {
    const value = options.scopes;
    if (value === undefined || value === null) return ['openid', 'email', 'profile'];
    const list = typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value;
    if (!Array.isArray(list) || list.some((scope) => typeof scope !== 'string' || !SCOPE.test(scope))) {
      fail('scopes', 'must be a list of scope names without spaces', value);
      return undefined;
    }
    if (!list.includes('openid')) {
      fail('scopes', 'must include "openid": without it Cognito returns no ID token', list.join(' '));
      return undefined;
    }
    return [...new Set(list as string[])];
  }
}

/**
 * A rough lower bound on a secret's entropy, from its length and the character
 * classes it uses; repeated characters count as the alphabet they really use.
 */
function estimateEntropyBits(secret: string): number {
  const distinct = new Set(secret).size;
  let alphabet = 0;
  if (/[a-z]/.test(secret)) alphabet += 26;
  if (/[A-Z]/.test(secret)) alphabet += 26;
  if (/[0-9]/.test(secret)) alphabet += 10;
  if (/[^a-zA-Z0-9]/.test(secret)) alphabet += 32;
  if (/^[0-9a-f]+$/i.test(secret)) alphabet = 16;
  return secret.length * Math.log2(Math.max(2, Math.min(alphabet, distinct * 4)));
}

function describe(option: keyof CognitoModuleOptions, value: unknown): string {
  if (option === 'clientSecret' || option === 'cookieSecret') return 'a value that is hidden here';
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'a list' : typeof value;
}
