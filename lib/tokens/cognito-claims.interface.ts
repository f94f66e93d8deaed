/**
 * Claims found in both Cognito token types. Only `iss`, `sub`, `exp`, `iat`, `token_use` are guaranteed.
 * Treat claims as read-only: those of a token seen before are shared between requests through
 * the verified-token cache, and deeply frozen. Copy them to change them.
 *
 * @publicApi
 */
export interface CognitoBaseClaims {
  readonly iss: string;
  readonly sub: string;
  readonly exp: number;
  readonly iat: number;
  readonly token_use: 'id' | 'access';
  readonly auth_time?: number;
  readonly jti?: string;
  readonly origin_jti?: string;
  readonly event_id?: string;
  /** Present only when the user belongs to at least one group. */
  readonly 'cognito:groups'?: readonly string[];
  readonly [claim: string]: unknown;
}

/** Verified ID-token claims. Custom attributes arrive as strings under `custom:<name>`. @publicApi */
export interface CognitoIdTokenClaims extends CognitoBaseClaims {
  readonly token_use: 'id';
  readonly aud: string;
  readonly 'cognito:username'?: string;
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly phone_number?: string;
  readonly phone_number_verified?: boolean;
  readonly nonce?: string;
  readonly at_hash?: string;
  readonly identities?: readonly unknown[];
}

/** Verified access-token claims. Cognito access tokens carry `client_id`, not `aud`. @publicApi */
export interface CognitoAccessTokenClaims extends CognitoBaseClaims {
  readonly token_use: 'access';
  readonly client_id: string;
  /** Space-separated scopes. */
  readonly scope?: string;
  readonly username?: string;
  readonly version?: number;
}

/** Which token a check expects. @publicApi */
export type CognitoTokenUse = 'id' | 'access';

/** The token response of Cognito's /oauth2/token. @publicApi */
export interface CognitoTokenSet {
  idToken: string;
  accessToken: string;
  /** Absent on refresh unless the app client rotates refresh tokens. */
  refreshToken?: string;
  /** Lifetime of the access token, in seconds. */
  expiresIn: number;
  tokenType: 'Bearer';
}

/** A machine-to-machine access token from the `client_credentials` grant. @publicApi */
export interface CognitoClientCredentialsToken {
  accessToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
  /** The scopes Cognito granted, space-separated. */
  scope?: string;
}
