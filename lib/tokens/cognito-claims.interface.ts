/** Claims found in both Cognito token types. Only `iss`, `sub`, `exp`, `iat`, `token_use` are guaranteed. @publicApi */
export interface CognitoBaseClaims {
  iss: string;
  sub: string;
  exp: number;
  iat: number;
  token_use: 'id' | 'access';
  auth_time?: number;
  jti?: string;
  origin_jti?: string;
  event_id?: string;
  /** Present only when the user belongs to at least one group. */
  'cognito:groups'?: string[];
  [claim: string]: unknown;
}

/** Verified ID-token claims. Custom attributes arrive as strings under `custom:<name>`. @publicApi */
export interface CognitoIdTokenClaims extends CognitoBaseClaims {
  token_use: 'id';
  aud: string;
  'cognito:username'?: string;
  email?: string;
  email_verified?: boolean;
  phone_number?: string;
  phone_number_verified?: boolean;
  nonce?: string;
  at_hash?: string;
  identities?: unknown[];
}

/** Verified access-token claims. Cognito access tokens carry `client_id`, not `aud`. @publicApi */
export interface CognitoAccessTokenClaims extends CognitoBaseClaims {
  token_use: 'access';
  client_id: string;
  /** Space-separated scopes. */
  scope?: string;
  username?: string;
  version?: number;
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
