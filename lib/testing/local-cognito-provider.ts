import { createHash, randomUUID, type JsonWebKey } from 'node:crypto';
import { renderErrorPage } from './hosted-ui-page.js';
import type { LocalCognitoOptions, LocalCognitoUser } from './local-cognito-options.interface.js';

const SCOPES = ['openid', 'email', 'profile', 'phone', 'aws.cognito.signin.user.admin'];
/** oidc-provider issues JWT access tokens only for a resource server; Cognito's have no audience. */
const RESOURCE = 'urn:local-cognito:user-pool';

/**
 * The oidc-provider configuration that makes it look like Cognito: routes, client
 * authentication, claims, token shapes and lifetimes, no consent screen.
 *
 * @internal
 */
export function cognitoProviderConfiguration({
  userPoolId,
  options,
  keys,
  cookieKeys,
  adapter,
}: {
  userPoolId: string;
  options: LocalCognitoOptions & { users: LocalCognitoUser[] };
  keys: { id: JsonWebKey & { kid: string }; access: JsonWebKey & { kid: string } };
  cookieKeys: string[];
  adapter: unknown;
}): Record<string, unknown> {
  const users = options.users;
  const findUser = (sub: string) => users.find((user) => subOf(user) === sub);
  const customClaims = [...new Set(users.flatMap((user) => Object.keys(user.attributes ?? {})))];
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const customScopes = [...new Set(options.clients.flatMap((client) => client.customScopes ?? []))];

  return {
    adapter: adapter,
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.logoutUris ?? [],
      grant_types: ['authorization_code', 'refresh_token', ...(client.customScopes?.length && client.clientSecret ? ['client_credentials'] : [])],
      response_types: ['code'],
      token_endpoint_auth_method: client.clientSecret === undefined ? 'none' : 'client_secret_basic',
    })),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    jwks: { keys: [keys.id, keys.access] },
    cookies: { keys: cookieKeys },
    scopes: SCOPES,
    claims: {
      // auth_time, jti and origin_jti are given to ID tokens only (see findAccount); userinfo has none.
      openid: ['sub', 'token_use', 'auth_time', 'jti', 'origin_jti', 'cognito:username', 'cognito:groups', ...customClaims],
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'updated_at'],
    },
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => false },
    extraParams: ['identity_provider', 'idp_identifier', 'lang'],
    ttl: { AccessToken: lifetime, ClientCredentials: lifetime, IdToken: lifetime, AuthorizationCode: 300, Interaction: 3600, Session: 86400, Grant: 86400, RefreshToken: 30 * 86400 },
    routes: {
      authorization: '/oauth2/authorize',
      token: '/oauth2/token',
      userinfo: '/oauth2/userInfo',
      revocation: '/oauth2/revoke',
      jwks: `/${userPoolId}/.well-known/jwks.json`,
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/login/${interaction.uid}` },
    issueRefreshToken: (_ctx: unknown, client: any) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => options.rotateRefreshTokens ?? false,
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: [...SCOPES, ...customScopes].join(' '),
          audience: RESOURCE,
          accessTokenTTL: lifetime,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256', kid: keys.access.kid } },
        }),
      },
    },
    // Cognito never asks for consent: grant every requested scope to the app client.
    loadExistingGrant: async (ctx: any) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      const requested = String(ctx.oidc.params.scope ?? '');
      grant.addOIDCScope(requested);
      grant.addResourceScope(RESOURCE, requested);
      await grant.save();
      return grant;
    },
    // `source` is the authorization code or refresh token the ID token comes from (at the token
    // endpoint), or the access token (at userinfo). oidc-provider adds the ID token's auth_time
    // itself: the sign-in time, which the code and every refresh token of the sign-in carry.
    findAccount: (_ctx: unknown, sub: string, source?: { grantId?: string }) => {
      const user = findUser(sub);
      if (user === undefined) return undefined;
      return {
        accountId: sub,
        claims: (use: string) => ({
          ...idTokenClaims(user),
          ...(use === 'id_token' ? { jti: randomUUID(), ...(source?.grantId ? { origin_jti: originJtiOf(source.grantId) } : {}) } : {}),
        }),
      };
    },
    formats: {
      customizers: {
        jwt: (ctx: any, token: any, jwt: { header?: Record<string, unknown>; payload: Record<string, unknown> }) => {
          const user = findUser(token.accountId);
          // Cognito's jti is a UUID (oidc-provider's is not); the JWT is the whole token, nothing
          // is stored under its id.
          token.jti = randomUUID();
          // The sign-in time, which the code and refresh tokens carry (not the issue time, which
          // changes on every refresh); a client-credentials token has no sign-in: its iat.
          const signIn = ctx?.oidc?.entities?.AuthorizationCode ?? ctx?.oidc?.entities?.RefreshToken;
          Object.assign(jwt.payload, {
            jti: token.jti,
            token_use: 'access',
            version: 2,
            auth_time: typeof signIn?.authTime === 'number' ? signIn.authTime : jwt.payload.iat,
            ...(token.grantId ? { origin_jti: originJtiOf(token.grantId) } : {}),
            ...(user ? { username: user.username } : {}),
            ...(user?.groups?.length ? { 'cognito:groups': user.groups } : {}),
          });
          // oidc-provider insists on an audience; Cognito access tokens have none. Keep it
          // for oidc-provider's check but leave it out of the serialized token.
          Object.defineProperty(jwt.payload, 'aud', { value: jwt.payload.aud, enumerable: false, writable: true, configurable: true });
          // Cognito's header is { kid, alg } only.
          jwt.header = { ...jwt.header, typ: undefined };
        },
      },
    },
    renderError: (ctx: any, out: { error: string; error_description?: string }) => {
      ctx.type = 'html';
      const error = out.error === 'invalid_redirect_uri' ? 'redirect_mismatch' : out.error;
      ctx.body = renderErrorPage(error, out.error_description);
    },
  };
}

function idTokenClaims(user: LocalCognitoUser): Record<string, unknown> {
  return {
    sub: subOf(user),
    token_use: 'id',
    'cognito:username': user.username,
    ...(user.groups?.length ? { 'cognito:groups': user.groups } : {}),
    ...(user.email === undefined ? {} : { email: user.email, email_verified: user.emailVerified ?? true }),
    ...user.attributes,
  };
}

export function subOf(user: LocalCognitoUser): string {
  if (user.sub !== undefined) return user.sub;
  const hex = createHash('sha256').update(`local-cognito:${user.username}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The `origin_jti` of every token of one sign-in: a UUID (shaped as Cognito's random v4 ones)
 * derived from oidc-provider's grant id, which the authorization code, the refresh tokens (rotated
 * or not) and so every refresh share, and which a `dataDir` keeps with them across restarts.
 * Each authorization creates a new grant (see `loadExistingGrant`), so each sign-in a new value.
 *
 * @internal
 */
export function originJtiOf(grantId: string): string {
  const bytes = createHash('sha256').update(`local-cognito:origin_jti:${grantId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
