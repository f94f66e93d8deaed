import type { CognitoRedisClient } from './cognito-options.interface.js';
/** The options after defaults and checks: what the rest of the module reads. @internal */
export interface CognitoConfig {
  readonly userPoolId: string;
  readonly region: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  /** Hosted UI origin, no trailing slash. */
  readonly domain: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly redirectUri: string;
  /** The app's own origin, from `redirectUri`: where same-origin requests come from. */
  readonly appOrigin: string;
  /** Other origins whose requests may ride on the session cookie (`trustedOrigins`). */
  readonly trustedOrigins: readonly string[];
  /** Refuse cross-site unsafe requests authenticated by the session cookie. */
  readonly csrfProtection: boolean;
  /** Where the callback is served, exactly (no global prefix applies): the path of `redirectUri`, or `callbackPath`. */
  readonly callbackPath: string;
  /** Whether `callbackPath` was set (a reverse proxy rewrites paths) rather than taken from `redirectUri`. */
  readonly callbackPathFromOption: boolean;
  readonly loginPath: string;
  readonly successRedirect: string;
  readonly errorRedirect: string;
  readonly jwksCacheTimeoutSeconds: number;
  readonly jwksCooldownSeconds: number;
  readonly cookieSecrets: readonly string[];
  /** Cookie names start with it: `<prefix>-login.*`, `<prefix>-session.*`. */
  readonly cookieNamePrefix: string;
  /** Cookies get `Secure` and the `__Host-` prefix unless the app itself runs on http://localhost. */
  readonly secureCookies: boolean;
  readonly scopes: readonly string[];
  readonly httpTimeoutMs: number;
  readonly clockToleranceSeconds: number;
  readonly loginTimeoutSeconds: number;
  readonly revokeUrl: string;
  /** Cognito's `/logout` endpoint (not OIDC RP-initiated logout). */
  readonly logoutEndpoint: string;
  readonly logoutUri: string | undefined;
  /** Where logout sends the browser when there is no `logoutUri`. */
  readonly postLogoutRedirect: string;
  readonly logoutPath: string;
  readonly sessionRefreshMarginSeconds: number;
  readonly sessionMaxAgeSeconds: number;
  readonly sessionIncludeIdToken: boolean;
  readonly tokenSources: readonly ('header' | 'cookie')[];
  readonly wsTokenSources: readonly ('handshake' | 'header' | 'cookie')[];
  /** Every user pool whose tokens are accepted, this module's own first. */
  readonly trustedPools: readonly TrustedPool[];
  readonly jwksStaleSeconds: number;
  readonly verifiedTokenCacheSize: number;
  readonly sessionCacheSize: number;
  /** Shared state for a fleet; `undefined`: nothing is shared (the default). */
  readonly redis: RedisSettings | undefined;
  /** Where session tokens live: the cookies, or Redis behind a session-id cookie. */
  readonly sessionStore: 'cookie' | 'redis';
}

/** @internal */
export interface RedisSettings {
  /** `redisUrl`, or else… */
  readonly url?: string;
  /** …the app's own ioredis client (`redis`). */
  readonly client?: CognitoRedisClient;
  readonly keyPrefix: string;
  readonly staleSeconds: number;
}

/** @internal */
export interface TrustedPool {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly clientIds: readonly string[];
}
