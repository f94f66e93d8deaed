import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderErrorPage, renderSignInPage } from './hosted-ui-page.js';
import { HostedUiBrowser } from './hosted-ui-browser.js';
import { createMemoryAdapter } from './memory-adapter.js';
import type { LocalCognitoOptions, LocalCognitoUser, MintTokenOptions } from './local-cognito-options.interface.js';

const SCOPES = ['openid', 'email', 'profile', 'phone', 'aws.cognito.signin.user.admin'];
/** oidc-provider issues JWT access tokens only for a resource server; Cognito's have no audience. */
const RESOURCE = 'urn:local-cognito:user-pool';

/**
 * A Cognito user pool on 127.0.0.1, for tests and local development, built on the
 * certified OpenID Connect server `oidc-provider` and shaped like Cognito: issuer
 * `/{userPoolId}`, `/oauth2/authorize`, `/oauth2/token` (client_secret_basic, or
 * `client_id` in the body for public clients), `/{userPoolId}/.well-known/jwks.json`,
 * RS256, and Cognito's claims (`token_use`, `cognito:username`, `cognito:groups`;
 * `client_id`, `scope` and no `aud` in access tokens).
 *
 * @example
 * ```ts
 * const cognito = await LocalCognito.start({
 *   users: [{ username: 'alice', password: 'correct horse', email: 'alice@example.com', groups: ['admin'] }],
 *   clients: [{ clientId: 'app', clientSecret: 'secret', redirectUris: ['http://127.0.0.1:3000/auth/callback'] }],
 * });
 * CognitoModule.forRoot({ ...cognito.moduleOptions('app'), redirectUri: '…', cookieSecret: '…', callbackHandler: H });
 * const callbackUrl = await cognito.signIn(authorizeUrl, { username: 'alice', password: 'correct horse' });
 * await cognito.stop();
 * ```
 *
 * @publicApi
 */
export class LocalCognito {
  /** Requests the provider answered, by path (e.g. `/oauth2/token`), for assertions in tests. */
  readonly requestCounts = new Map<string, number>();
  /** Hosted UI sessions ended through `/logout`. */
  logouts = 0;

  private constructor(
    private readonly server: Server,
    readonly userPoolId: string,
    /** `http://127.0.0.1:<port>`: the Hosted UI domain. */
    readonly url: string,
    private readonly options: LocalCognitoOptions,
    private readonly storage = createMemoryAdapter(),
    private readonly keys = { id: signingKey('id-token-key'), access: signingKey('access-token-key') },
  ) {}

  static async start(options: LocalCognitoOptions): Promise<LocalCognito> {
    const userPoolId = options.userPoolId ?? 'eu-west-2_LocalPool1';
    const Provider = await loadOidcProvider();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const cognito = new LocalCognito(server, userPoolId, `http://127.0.0.1:${port}`, options);
    const provider = new Provider(cognito.issuer, cognito.providerConfiguration());
    const providerCallback = provider.callback();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      cognito.route(provider, providerCallback, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('local Cognito error');
      });
    });
    return cognito;
  }

  /** The tokens' `iss`: `http://127.0.0.1:<port>/<userPoolId>`. */
  get issuer(): string {
    return `${this.url}/${this.userPoolId}`;
  }

  get jwksUri(): string {
    return `${this.issuer}/.well-known/jwks.json`;
  }

  get tokenUrl(): string {
    return `${this.url}/oauth2/token`;
  }

  get authorizeUrl(): string {
    return `${this.url}/oauth2/authorize`;
  }

  /** The CognitoModule options that point at this pool for one of its clients. */
  moduleOptions(clientId: string): { userPoolId: string; clientId: string; clientSecret?: string; domain: string; issuer: string } {
    const client = this.options.clients.find((candidate) => candidate.clientId === clientId);
    if (client === undefined) throw new Error(`LocalCognito has no client "${clientId}"`);
    return { userPoolId: this.userPoolId, clientId, clientSecret: client.clientSecret, domain: this.url, issuer: this.issuer };
  }

  /**
   * Signs a user in the way a browser would (Hosted UI form over HTTP) and returns the
   * URL Cognito redirects to: the app's callback with `code` and `state`, or `error`.
   */
  signIn(authorizeUrl: string, credentials: { username: string; password: string } | 'cancel'): Promise<URL> {
    return new HostedUiBrowser().signIn(authorizeUrl, credentials);
  }

  /**
   * Signs a Cognito-shaped access token with this pool's key, without a sign-in: for testing
   * guards and APIs. Groups, scopes, custom attributes, expired tokens (`expiresInSeconds < 0`)
   * and tokens for another client are all a matter of options.
   */
  mintAccessToken(options: MintTokenOptions = {}): Promise<string> {
    const clientId = options.clientId ?? this.options.clients[0]?.clientId ?? 'local-client';
    return this.mint('access', options, {
      client_id: clientId,
      username: options.username ?? 'local-user',
      scope: (options.scopes ?? ['openid', 'email', 'profile']).join(' '),
      version: 2,
    });
  }

  /** Signs a Cognito-shaped ID token with this pool's key (see `mintAccessToken`). */
  mintIdToken(options: MintTokenOptions = {}): Promise<string> {
    const clientId = options.clientId ?? this.options.clients[0]?.clientId ?? 'local-client';
    return this.mint('id', options, { aud: clientId, 'cognito:username': options.username ?? 'local-user', email_verified: true });
  }

  private async mint(tokenUse: 'id' | 'access', options: MintTokenOptions, shape: Record<string, unknown>): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = options.expiresInSeconds ?? 3600;
    const issuedAt = expiresIn > 0 ? now : now + expiresIn - 60;
    const payload: Record<string, unknown> = {
      sub: options.sub ?? subOf({ username: options.username ?? 'local-user', password: '' }),
      ...shape,
      ...(options.groups?.length ? { 'cognito:groups': options.groups } : {}),
      iss: options.issuer ?? this.issuer,
      token_use: tokenUse,
      auth_time: issuedAt,
      iat: issuedAt,
      exp: now + expiresIn,
      jti: randomUUID(),
      origin_jti: randomUUID(),
      event_id: randomUUID(),
    };
    for (const [name, value] of Object.entries(options.claims ?? {})) {
      if (value === undefined) delete payload[name];
      else payload[name] = value;
    }
    const jwk = tokenUse === 'id' ? this.keys.id : this.keys.access;
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: jwk.kid! }).sign(createPrivateKey({ key: jwk, format: 'jwk' }));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(provider: any, providerCallback: (req: IncomingMessage, res: ServerResponse) => void, req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    const counted = path.startsWith('/login/') ? '/login' : path;
    this.requestCounts.set(counted, (this.requestCounts.get(counted) ?? 0) + 1);
    if (path.startsWith('/login/')) return this.signInPage(provider, req, res);
    if (path === '/logout' && req.method === 'GET') return this.logout(req, res);
    if (path === `/${this.userPoolId}/.well-known/openid-configuration`) req.url = '/.well-known/openid-configuration';
    providerCallback(req, res);
  }

  /**
   * Cognito's `/logout` (not OIDC RP-initiated logout): ends the Hosted UI session, then
   * redirects to a registered `logout_uri`, or back to sign-in with `redirect_uri` and
   * `response_type`. It revokes nothing.
   */
  private logout(req: IncomingMessage, res: ServerResponse): void {
    const params = new URL(req.url ?? '/', this.url).searchParams;
    const client = this.options.clients.find((candidate) => candidate.clientId === params.get('client_id'));
    const logoutUri = params.get('logout_uri');
    const redirectUri = params.get('redirect_uri');
    let destination: string | undefined;
    if (client !== undefined && logoutUri !== null && (client.logoutUris ?? []).includes(logoutUri)) {
      destination = logoutUri;
    } else if (client !== undefined && redirectUri !== null && params.get('response_type') && client.redirectUris.includes(redirectUri)) {
      const signIn = new URL(this.authorizeUrl);
      for (const name of ['client_id', 'redirect_uri', 'response_type', 'scope', 'state']) {
        const value = params.get(name);
        if (value !== null) signIn.searchParams.set(name, value);
      }
      destination = signIn.toString();
    }
    if (destination === undefined) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(renderErrorPage('redirect_mismatch', 'Unknown client, or logout_uri is not a registered sign-out URL'));
      return;
    }
    const sessionId = /(?:^|;\s*)_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (sessionId !== undefined) this.storage.destroy('Session', sessionId);
    const expired = 'Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly';
    res.writeHead(302, {
      location: destination,
      'set-cookie': ['_session', '_session.sig', '_session.legacy', '_session.legacy.sig'].map((name) => `${name}=; ${expired}`),
    });
    res.end();
    this.logouts += 1;
  }

  /** The interaction oidc-provider hands over: show the form, check the password, finish. */
  private async signInPage(provider: any, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(renderErrorPage('invalid_request', 'This sign-in session has expired'));
      return;
    }
    const clientId = String(details.params.client_id);
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(renderSignInPage({ uid: details.uid, clientId }));
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    if (form.get('action') === 'cancel') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the sign-in' }, { mergeWithLastSubmission: false });
      return;
    }
    const user = this.options.users.find((candidate) => candidate.username === form.get('username'));
    if (user === undefined || user.password !== form.get('password')) {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(renderSignInPage({ uid: details.uid, clientId, error: 'Incorrect username or password.' }));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: subOf(user) } }, { mergeWithLastSubmission: false });
  }

  private providerConfiguration(): Record<string, unknown> {
    const users = this.options.users;
    const findUser = (sub: string) => users.find((user) => subOf(user) === sub);
    const customClaims = [...new Set(users.flatMap((user) => Object.keys(user.attributes ?? {})))];
    const lifetime = this.options.tokenLifetimeSeconds ?? 3600;
    const customScopes = [...new Set(this.options.clients.flatMap((client) => client.customScopes ?? []))];

    return {
      adapter: this.storage.Adapter,
      clients: this.options.clients.map((client) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: client.redirectUris,
        post_logout_redirect_uris: client.logoutUris ?? [],
        grant_types: ['authorization_code', 'refresh_token', ...(client.customScopes?.length && client.clientSecret ? ['client_credentials'] : [])],
        response_types: ['code'],
        token_endpoint_auth_method: client.clientSecret === undefined ? 'none' : 'client_secret_basic',
      })),
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
      jwks: { keys: [this.keys.id, this.keys.access] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
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
        jwks: `/${this.userPoolId}/.well-known/jwks.json`,
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/login/${interaction.uid}` },
      issueRefreshToken: (_ctx: unknown, client: any) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: () => this.options.rotateRefreshTokens ?? false,
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
            jwt: { sign: { alg: 'RS256', kid: 'access-token-key' } },
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

function subOf(user: LocalCognitoUser): string {
  if (user.sub !== undefined) return user.sub;
  const hex = createHash('sha256').update(`local-cognito:${user.username}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function signingKey(kid: string): JsonWebKey & { kid: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16 * 1024) throw new Error('body too large');
  }
  return body;
}

async function loadOidcProvider(): Promise<any> {
  // A variable specifier keeps the optional peer out of the type graph and the main entry.
  const name = 'oidc-provider';
  try {
    return (await import(name)).default;
  } catch (error) {
    throw new Error('LocalCognito needs the "oidc-provider" package: npm install --save-dev oidc-provider', { cause: error });
  }
}
