import { createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderErrorPage, renderSignInPage } from './hosted-ui-page.js';
import { HostedUiBrowser } from './hosted-ui-browser.js';
import { createMemoryAdapter, type StoredEntry } from './memory-adapter.js';
import { loadState, saveState, type SigningJwk } from './local-cognito-state.js';
import { cognitoProviderConfiguration, subOf } from './local-cognito-provider.js';
import type { LocalCognitoOptions, LocalCognitoUser, MintTokenOptions } from './local-cognito-options.interface.js';


/**
 * A Cognito user pool on 127.0.0.1, for tests and local development, built on the
 * certified OpenID Connect server `oidc-provider` and shaped like Cognito: issuer
 * `/{userPoolId}`, `/oauth2/authorize`, `/oauth2/token` (client_secret_basic, or
 * `client_id` in the body for public clients), `/{userPoolId}/.well-known/jwks.json`,
 * RS256, and Cognito's claims (`token_use`, `cognito:username`, `cognito:groups`;
 * `client_id`, `scope` and no `aud` in access tokens). Tokens are those of an app client with
 * token revocation on: each has its own `jti` (a UUID), and all the tokens of one sign-in, across
 * its refreshes, share an `origin_jti` and an `auth_time` (the sign-in time).
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
    private readonly options: LocalCognitoOptions & { users: LocalCognitoUser[] },
    private readonly keys: { id: SigningJwk; access: SigningJwk },
    private readonly storage: ReturnType<typeof createMemoryAdapter>,
  ) {}

  static async start(options: LocalCognitoOptions): Promise<LocalCognito> {
    const outsideJest = localCognitoOutsideJest();
    if (outsideJest !== undefined) return outsideJest.start(options);
    const userPoolId = options.userPoolId ?? 'eu-west-2_LocalPool1';
    const Provider = await loadOidcProvider();
    const { dataDir } = options;
    const saved = dataDir === undefined ? undefined : loadState(dataDir);
    const resolved = { ...options, users: options.users ?? saved?.users ?? [] };
    // Real Cognito never reuses a key id for another key: neither does a new local pool.
    const keys = saved?.keys ?? { id: signingKey('id'), access: signingKey('access') };
    const cookieKeys = saved?.cookieKeys ?? [randomBytes(32).toString('base64url')];
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? saved?.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const save = (storage: [string, StoredEntry][]) => saveState(dataDir!, { version: 1, port, keys, cookieKeys, users: resolved.users, storage });
    const storage = createMemoryAdapter({ initial: saved?.storage, onChange: dataDir === undefined ? undefined : save });
    if (dataDir !== undefined) save(saved?.storage ?? []);
    const cognito = new LocalCognito(server, userPoolId, `http://127.0.0.1:${port}`, resolved, keys, storage);
    const provider = new Provider(cognito.issuer, cognitoProviderConfiguration({ userPoolId, options: resolved, keys, cookieKeys, adapter: storage.Adapter }));
    const providerCallback = provider.callback();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // No kept-alive connections: a client must never hold a socket to a local Cognito that is
      // then restarted on the same port (its next request would meet the closed socket).
      res.setHeader('connection', 'close');
      cognito.route(provider, providerCallback, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('local Cognito error');
      });
    });
    return cognito;
  }

  /** The users who can sign in (given, or kept in `dataDir`). */
  get users(): readonly LocalCognitoUser[] {
    return this.options.users;
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
      auth_time: options.authTime ?? issuedAt,
      iat: issuedAt,
      exp: now + expiresIn,
      jti: options.jti ?? randomUUID(),
      origin_jti: options.originJti ?? randomUUID(),
      event_id: randomUUID(),
    };
    for (const [name, value] of Object.entries(options.claims ?? {})) {
      if (value === undefined) delete payload[name];
      else payload[name] = value;
    }
    const jwk = tokenUse === 'id' ? this.keys.id : this.keys.access;
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const signingInput = `${encode({ alg: 'RS256', kid: jwk.kid })}.${encode(payload)}`;
    const signature = sign('sha256', Buffer.from(signingInput), createPrivateKey({ key: jwk, format: 'jwk' }));
    return `${signingInput}.${signature.toString('base64url')}`;
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
    this.options.onSignIn?.({ username: user.username, clientId });
  }
}

function signingKey(tokenUse: 'id' | 'access'): SigningJwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `${tokenUse}-${randomBytes(12).toString('base64url')}`, alg: 'RS256', use: 'sig' };
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
    return (typeof require === 'function' ? require(name) : await import(name)).default;
  } catch (error) {
    throw new Error('LocalCognito needs the "oidc-provider" package: npm install --save-dev oidc-provider', { cause: error });
  }
}

/**
 * `oidc-provider` is ES modules only. The CommonJS build loads it with `require`, which Node
 * 20.19+ and 22.12+ can do, but Jest's `require` cannot (unless Jest runs with
 * `--experimental-vm-modules` on Node 24.9+), and Jest also answers `node:module` with its own
 * loader. Loading it through Node's loader is not enough either: it would live in another realm
 * than the test, and it checks that its configuration objects are plain objects of its realm.
 *
 * So, inside Jest's sandbox, the whole local Cognito runs outside it: this same file, loaded by
 * Node's own loader (reached through the main context's `process`). It is a server that shares
 * no module state with the tests; they talk to it over HTTP and through its methods.
 *
 * @returns that class, or `undefined` where `oidc-provider` loads here (or this is the ESM build).
 */
function localCognitoOutsideJest(): typeof LocalCognito | undefined {
  if (typeof require !== 'function' || typeof __filename !== 'string') return undefined;
  try {
    require('oidc-provider');
    return undefined;
  } catch {
    const vm = require('node:vm') as typeof import('node:vm');
    if (vm.runInThisContext('globalThis') === globalThis) return undefined; // not sandboxed: really missing
    const mainProcess = vm.runInThisContext('process') as NodeJS.Process;
    const nodeModule = mainProcess.getBuiltinModule?.('node:module');
    return nodeModule?.createRequire(__filename)(__filename).LocalCognito;
  }
}
