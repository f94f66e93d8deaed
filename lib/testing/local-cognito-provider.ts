import { createHash, type JsonWebKey } from 'node:crypto';
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
      openid: ['sub', 'token_use', 'cognito:username', 'cognito:groups', ...customClaims],
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
    findAccount: (_ctx: unknown, sub: string) => {
      const user = findUser(sub);
      if (user === undefined) return undefined;
      return { accountId: sub, claims: () => idTokenClaims(user) };
    },
    formats: {
      customizers: {
        jwt: (_ctx: unknown, token: any, jwt: { header?: Record<string, unknown>; payload: Record<string, unknown> }) => {
          const user = findUser(token.accountId);
          Object.assign(jwt.payload, {
            token_use: 'access',
            version: 2,
            auth_time: jwt.payload.iat,
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
