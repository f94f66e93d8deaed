/**
 * Options of `CognitoModule.forRoot()` (or the value returned by `forRootAsync`'s factory).
 * Every option is checked when the application boots; all problems are reported at once.
 *
 * @publicApi
 */
export interface CognitoModuleOptions {
  /** User pool id, `<region>_<id>`, e.g. `eu-west-2_AbC123xyz`. Env: `COGNITO_USER_POOL_ID`. */
  userPoolId: string;
  /**
   * AWS region. Env: `COGNITO_USERPOOL_REGION`.
   * @default the prefix of `userPoolId` (a different value is an error)
   */
  region?: string;
  /** App client id. Env: `COGNITO_CLIENT_ID`. */
  clientId: string;
  /** App client secret; omit for a public client. Env: `COGNITO_APP_CLIENT_SECRET`. */
  clientSecret?: string;
  /**
   * Hosted UI (managed login) domain: a bare host (`myapp.auth.eu-west-2.amazoncognito.com`)
   * or an https URL; a custom domain works too. Env: `COGNITO_HOST`.
   */
  domain: string;
  /**
   * Token endpoint. Env: `COGNITO_TOKEN_URL`.
   * @default `${domain}/oauth2/token`
   */
  tokenUrl?: string;
  /** The callback URL registered on the app client, character for character. Env: `COGNITO_REDIRECT_URL`. */
  redirectUri: string;
  /**
   * The path the app serves the callback at, exactly: no global prefix, version or RouterModule
   * path is added. Set it only behind a reverse proxy that rewrites the path of `redirectUri`
   * (the module then logs a warning naming both). Env: `COGNITO_CALLBACK_URL_PATH`.
   * @default the path of `redirectUri`
   */
  callbackPath?: string;
  /**
   * Route that starts a login. Env: `COGNITO_LOGIN_PATH`.
   * @default 'auth/login'
   */
  loginPath?: string;
  /**
   * Where the browser goes after a successful login, unless the handler or `returnTo` says otherwise.
   * Env: `COGNITO_AUTH_SUCCESS_REDIRECT_URL`.
   * @default '/'
   */
  successRedirect?: string;
  /**
   * Where the browser goes when a login fails; `?error=<reason>` is appended.
   * Env: `COGNITO_AUTH_ERROR_REDIRECT_URL`.
   * @default '/'
   */
  errorRedirect?: string;
  /**
   * How long the user pool's JWKS is cached, in seconds (at least 1: with 0 every token would
   * fetch the key set). Env: `COGNITO_PUBLIC_KEYS_CACHE_TIMEOUT`.
   * @default 300
   */
  jwksCacheTimeout?: number;
  /**
   * Minimum seconds between two refetches of the JWKS caused by an unknown `kid`,
   * so forged tokens cannot make the app hammer Cognito (at least 1). Env: `COGNITO_JWKS_COOLDOWN_SECONDS`.
   * @default 30
   */
  jwksCooldownSeconds?: number;
  /**
   * Secret that encrypts the login cookie (state, PKCE verifier, nonce): at least 32 random bytes,
   * e.g. `openssl rand -base64 32`. A list rotates secrets: the first encrypts, all decrypt.
   * Instances that share it can finish each other's logins. Env: `COGNITO_COOKIE_SECRET` (comma-separated).
   */
  cookieSecret: string | readonly string[];
  /**
   * Start of this module's cookie names (`<prefix>-login.<hash>`, `<prefix>-session.<n>`),
   * so two imports of the module (two user pools) keep their sessions apart.
   * Env: `COGNITO_COOKIE_NAME_PREFIX`.
   * @default 'cognito'
   */
  cookieNamePrefix?: string;
  /**
   * Expected `iss` of the tokens. Env: `COGNITO_ISSUER`.
   * @default `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
   */
  issuer?: string;
  /**
   * The user pool's key set. Env: `COGNITO_JWKS_URL`.
   * @default `${issuer}/.well-known/jwks.json`
   */
  jwksUri?: string;
  /**
   * Scopes asked for at login; `openid` is required (the callback needs an ID token).
   * Env: `COGNITO_SCOPES` (space-separated).
   * @default ['openid', 'email', 'profile']
   */
  scopes?: readonly string[];
  /**
   * Total time allowed for one call to Cognito (token endpoint, JWKS), in milliseconds.
   * Env: `COGNITO_HTTP_TIMEOUT_MS`.
   * @default 5000
   */
  httpTimeoutMs?: number;
  /**
   * Clock skew tolerated when checking `exp`, `nbf` and `iat`, in seconds.
   * Env: `COGNITO_CLOCK_TOLERANCE_SECONDS`.
   * @default 5
   */
  clockToleranceSeconds?: number;
  /**
   * How long a started login stays valid (the login cookie's lifetime), in seconds.
   * Env: `COGNITO_LOGIN_TIMEOUT_SECONDS`.
   * @default 600
   */
  loginTimeoutSeconds?: number;
  /**
   * A sign-out URL registered on the app client: after logout, Cognito's `/logout` sends the
   * browser there. Without it, logout only clears this app's cookies and redirects to `postLogoutRedirect`.
   * Env: `COGNITO_LOGOUT_URL`.
   */
  logoutUri?: string;
  /**
   * Where the browser goes after logout when no `logoutUri` is configured (a path on this site,
   * global prefix included, or an https URL). Env: `COGNITO_POST_LOGOUT_REDIRECT_URL`.
   * @default '/'
   */
  postLogoutRedirect?: string;
  /**
   * Route that signs out (GET and POST). Env: `COGNITO_LOGOUT_PATH`.
   * @default 'auth/logout'
   */
  logoutPath?: string;
  /**
   * Refresh the session when the access token expires within this many seconds.
   * Env: `COGNITO_SESSION_REFRESH_MARGIN_SECONDS`.
   * @default 60
   */
  sessionRefreshMarginSeconds?: number;
  /**
   * Lifetime of the session cookies, in seconds; match the app client's refresh-token lifetime.
   * Env: `COGNITO_SESSION_MAX_AGE_SECONDS`.
   * @default 2592000 (30 days, Cognito's default refresh-token lifetime)
   */
  sessionMaxAgeSeconds?: number;
  /**
   * Keep the ID token in the session cookies too. Off by default: an ID token with many
   * groups or attributes can add several kilobytes to every request. Env: `COGNITO_SESSION_INCLUDE_ID_TOKEN`.
   * @default false
   */
  sessionIncludeIdToken?: boolean;
  /**
   * Where `CognitoAuthGuard` looks for a token, in order: the `Authorization: Bearer` header
   * and the session cookies. Env: `COGNITO_TOKEN_SOURCES` (comma-separated).
   * @default ['header', 'cookie']
   */
  tokenSources?: readonly ('header' | 'cookie')[];
  /**
   * Where WebSocket connections (`CognitoIoAdapter`, `CognitoWsAdapter`) and GraphQL
   * subscriptions look for a token, in order: the handshake (socket.io's `auth.token` or
   * `auth.authorization`; graphql-ws's `connectionParams`), the upgrade request's
   * `Authorization` header, and the session cookies (only from the app's own origin or a
   * trusted one). Never the query string. Env: `COGNITO_WS_TOKEN_SOURCES` (comma-separated).
   * @default ['handshake', 'header', 'cookie']
   */
  wsTokenSources?: readonly ('handshake' | 'header' | 'cookie')[];
  /**
   * Further app clients of the same user pool whose tokens the verifier and guard accept
   * (`aud` / `client_id`). Env: `COGNITO_ADDITIONAL_CLIENT_IDS` (comma-separated).
   */
  additionalClientIds?: readonly string[];
  /**
   * Further user pools whose tokens the verifier and guard accept. The pool is chosen by the
   * token's `iss` from this allow-list (never a URL built from the token).
   * Env: `COGNITO_ADDITIONAL_USER_POOLS` (JSON).
   */
  additionalUserPools?: readonly CognitoTrustedUserPool[];
  /**
   * How long, past `jwksCacheTimeout`, cached keys keep serving while the JWKS endpoint is down;
   * 0 turns it off. Env: `COGNITO_JWKS_STALE_SECONDS`.
   * @default 3600
   */
  jwksStaleSeconds?: number;
  /**
   * How many verified tokens are remembered, so a repeated bearer token costs a lookup instead of
   * an RSA verification (entries end at the token's `exp`; claims are re-checked on every use);
   * 0 turns it off. Env: `COGNITO_VERIFIED_TOKEN_CACHE_SIZE`.
   * @default 5000
   */
  verifiedTokenCacheSize?: number;
  /**
   * How many opened session cookies are remembered, so a session's requests after the first cost
   * a lookup instead of decrypting the cookie (a hit needs the whole cookie value to match;
   * entries end when the sealed cookie does); 0 turns it off. Env: `COGNITO_SESSION_CACHE_SIZE`.
   * @default 1250
   */
  sessionCacheSize?: number;
  /**
   * Origins besides the app's own (the origin of `redirectUri`) whose pages may send
   * state-changing requests (`POST`, `PUT`, `PATCH`, `DELETE`) that ride on the session cookie,
   * e.g. `https://admin.example.com`. Env: `COGNITO_TRUSTED_ORIGINS` (comma-separated).
   * @default []
   */
  trustedOrigins?: readonly string[];
  /**
   * CSRF protection for requests authenticated by the session cookie: an unsafe request passes
   * only when the browser says it is same-origin (`Sec-Fetch-Site`), or when its `Origin` (else
   * `Referer`) is the app's origin or in `trustedOrigins`; a cross-site `GET` of the logout route
   * asks for confirmation instead of signing out. Bearer-token requests are never affected.
   * Turn it off only if the app checks CSRF tokens of its own. Env: `COGNITO_CSRF_PROTECTION`.
   * @default true
   */
  csrfProtection?: boolean;
  /**
   * Redis for a fleet of instances: revocation that takes effect on every instance, one refresh
   * per session across the fleet, and `sessionStore: 'redis'`. `redis://` or `rediss://` (TLS),
   * with the password in the URL if there is one (it never appears in logs or errors). Needs the
   * `ioredis` package. Without `redisUrl` or `redis`, nothing is shared and no Redis is needed.
   * Env: `COGNITO_REDIS_URL`.
   */
  redisUrl?: string;
  /**
   * An `ioredis` client the app already configured (Sentinel, Cluster, TLS options), instead of
   * `redisUrl`. The module duplicates it for its subscription and never closes the app's client.
   * Not available from the environment.
   */
  redis?: CognitoRedisClient;
  /**
   * Start of every Redis key and channel this module uses, so apps sharing a Redis keep apart.
   * Env: `COGNITO_REDIS_KEY_PREFIX`.
   * @default 'cognito:'
   */
  keyPrefix?: string;
  /**
   * How long, in seconds, the revocation list may go without Redis before guarded requests are
   * answered 503 (with `Retry-After`) instead of trusting a list that may have missed a logout.
   * Any whole number from 1. Env: `COGNITO_REDIS_STALE_SECONDS`.
   * @default 30
   */
  redisStaleSeconds?: number;
  /**
   * Where a session's tokens live: `'cookie'` (sealed in the cookies; nothing on the server) or
   * `'redis'` (sealed in Redis; the browser holds one small cookie with a random session id, and
   * logout or `revokeUser()` deletes the server-side entry). `'redis'` needs `redisUrl` or `redis`.
   * Env: `COGNITO_SESSION_STORE`.
   * @default 'cookie'
   */
  sessionStore?: 'cookie' | 'redis';
}

/**
 * What the module needs of an `ioredis` client (`Redis` or `Cluster`): pass the app's own client
 * as the `redis` option. Typed structurally, so apps without `ioredis` compile.
 *
 * @publicApi
 */
export interface CognitoRedisClient {
  duplicate(): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  readonly status: string;
}

/** Another user pool the verifier trusts. @publicApi */
export interface CognitoTrustedUserPool {
  userPoolId: string;
  /** @default the prefix of `userPoolId` */
  region?: string;
  /** @default `https://cognito-idp.${region}.amazonaws.com/${userPoolId}` */
  issuer?: string;
  /** @default `${issuer}/.well-known/jwks.json` */
  jwksUri?: string;
  /** The app clients of that pool whose tokens are accepted. */
  clientIds: readonly string[];
}

/** The environment variable that feeds each option (the Django package's names where it had one). */
export const COGNITO_ENV_NAMES = {
  userPoolId: 'COGNITO_USER_POOL_ID',
  region: 'COGNITO_USERPOOL_REGION',
  clientId: 'COGNITO_CLIENT_ID',
  clientSecret: 'COGNITO_APP_CLIENT_SECRET',
  domain: 'COGNITO_HOST',
  tokenUrl: 'COGNITO_TOKEN_URL',
  redirectUri: 'COGNITO_REDIRECT_URL',
  callbackPath: 'COGNITO_CALLBACK_URL_PATH',
  loginPath: 'COGNITO_LOGIN_PATH',
  successRedirect: 'COGNITO_AUTH_SUCCESS_REDIRECT_URL',
  errorRedirect: 'COGNITO_AUTH_ERROR_REDIRECT_URL',
  jwksCacheTimeout: 'COGNITO_PUBLIC_KEYS_CACHE_TIMEOUT',
  jwksCooldownSeconds: 'COGNITO_JWKS_COOLDOWN_SECONDS',
  cookieSecret: 'COGNITO_COOKIE_SECRET',
  cookieNamePrefix: 'COGNITO_COOKIE_NAME_PREFIX',
  issuer: 'COGNITO_ISSUER',
  jwksUri: 'COGNITO_JWKS_URL',
  scopes: 'COGNITO_SCOPES',
  httpTimeoutMs: 'COGNITO_HTTP_TIMEOUT_MS',
  clockToleranceSeconds: 'COGNITO_CLOCK_TOLERANCE_SECONDS',
  loginTimeoutSeconds: 'COGNITO_LOGIN_TIMEOUT_SECONDS',
  logoutUri: 'COGNITO_LOGOUT_URL',
  postLogoutRedirect: 'COGNITO_POST_LOGOUT_REDIRECT_URL',
  logoutPath: 'COGNITO_LOGOUT_PATH',
  sessionRefreshMarginSeconds: 'COGNITO_SESSION_REFRESH_MARGIN_SECONDS',
  sessionMaxAgeSeconds: 'COGNITO_SESSION_MAX_AGE_SECONDS',
  sessionIncludeIdToken: 'COGNITO_SESSION_INCLUDE_ID_TOKEN',
  tokenSources: 'COGNITO_TOKEN_SOURCES',
  wsTokenSources: 'COGNITO_WS_TOKEN_SOURCES',
  additionalClientIds: 'COGNITO_ADDITIONAL_CLIENT_IDS',
  additionalUserPools: 'COGNITO_ADDITIONAL_USER_POOLS',
  jwksStaleSeconds: 'COGNITO_JWKS_STALE_SECONDS',
  verifiedTokenCacheSize: 'COGNITO_VERIFIED_TOKEN_CACHE_SIZE',
  sessionCacheSize: 'COGNITO_SESSION_CACHE_SIZE',
  trustedOrigins: 'COGNITO_TRUSTED_ORIGINS',
  csrfProtection: 'COGNITO_CSRF_PROTECTION',
  redisUrl: 'COGNITO_REDIS_URL',
  keyPrefix: 'COGNITO_REDIS_KEY_PREFIX',
  redisStaleSeconds: 'COGNITO_REDIS_STALE_SECONDS',
  sessionStore: 'COGNITO_SESSION_STORE',
} as const satisfies Record<Exclude<keyof CognitoModuleOptions, 'redis'>, string>;
