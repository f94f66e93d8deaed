/** A user of the local user pool. @publicApi */
export interface LocalCognitoUser {
  username: string;
  password: string;
  /** @default a stable UUID-like id derived from the username */
  sub?: string;
  email?: string;
  /** @default true when `email` is set */
  emailVerified?: boolean;
  groups?: string[];
  /** Extra ID-token claims such as `name` or `custom:tenant` (Cognito sends custom attributes as strings). */
  attributes?: Record<string, string>;
}

/** An app client of the local user pool. @publicApi */
export interface LocalCognitoClient {
  clientId: string;
  /** Omit for a public client (it then sends `client_id` in the token request body). */
  clientSecret?: string;
  /** Allowed callback URLs, matched character for character. */
  redirectUris: string[];
  /** Allowed sign-out URLs (`logout_uri` of `/logout`). */
  logoutUris?: string[];
  /**
   * Resource-server scopes (such as `orders/read`) the client may obtain with the
   * `client_credentials` grant; setting any enables that grant (the client needs a secret).
   */
  customScopes?: string[];
}

/** @publicApi */
export interface LocalCognitoOptions {
  /** @default 'eu-west-2_LocalPool1' */
  userPoolId?: string;
  /** The users who can sign in. @default the users kept in `dataDir`, else none */
  users?: LocalCognitoUser[];
  clients: LocalCognitoClient[];
  /** Lifetime of ID and access tokens, in seconds. @default 3600 */
  tokenLifetimeSeconds?: number;
  /** Issue a new refresh token on every refresh (Cognito's refresh-token rotation). @default false */
  rotateRefreshTokens?: boolean;
  /** @default the port kept in `dataDir`, else 0 (an ephemeral port on 127.0.0.1) */
  port?: number;
  /**
   * A directory where the local Cognito keeps its signing keys, port, users, Hosted UI sessions
   * and refresh tokens (file `local-cognito.json`, readable by its owner only). A local Cognito
   * restarted with the same `dataDir` is the same user pool to running apps: their tokens still
   * verify and their sessions still refresh. Without it, every start is a new pool with new keys
   * (and new key ids, so a running app fetches the new key set at once).
   */
  dataDir?: string;
  /** Called after each successful sign-in (the command-line local Cognito logs them). */
  onSignIn?(event: { username: string; clientId: string }): void;
}

/** What `LocalCognito.mintAccessToken()` / `mintIdToken()` put in a token. @publicApi */
export interface MintTokenOptions {
  /** @default 'local-user' */
  username?: string;
  /** @default derived from the username */
  sub?: string;
  groups?: string[];
  /** Access tokens only. @default ['openid', 'email', 'profile'] */
  scopes?: string[];
  /** `client_id` (access) or `aud` (ID). @default the first client's id */
  clientId?: string;
  /** Negative for an already expired token. @default 3600 */
  expiresInSeconds?: number;
  /** Another issuer, e.g. to test a token from another user pool. @default this pool */
  issuer?: string;
  /** The token's own id, `jti`. @default a new random UUID */
  jti?: string;
  /**
   * `origin_jti`: the id Cognito gives all the tokens of one sign-in (and their refreshes), which
   * revocation acts on. Give several tokens the same one to mint a family. @default a new random UUID
   */
  originJti?: string;
  /** `auth_time`, the sign-in time, in seconds since the epoch. @default the token's `iat` */
  authTime?: number;
  /** Extra or replaced claims (`custom:tenant`, `email`, …); `undefined` removes a claim. They win over the options above. */
  claims?: Record<string, unknown>;
}
