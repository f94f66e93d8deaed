/**
 * Every failure this module reports is a `CognitoError` with a stable `code`.
 * Messages are written for developers and never contain a token, an authorization
 * code, a cookie value or a client secret.
 *
 * @publicApi
 */
export type CognitoErrorCode =
  | 'ERR_CONFIG_INVALID'
  | 'ERR_AUTHORIZATION_RESPONSE'
  | 'ERR_CALLBACK_MISSING_CODE'
  | 'ERR_CALLBACK_MISSING_STATE'
  | 'ERR_LOGIN_COOKIE_MISSING'
  | 'ERR_LOGIN_COOKIE_INVALID'
  | 'ERR_LOGIN_EXPIRED'
  | 'ERR_STATE_MISMATCH'
  | 'ERR_TOKEN_ENDPOINT_ERROR'
  | 'ERR_TOKEN_ENDPOINT_TIMEOUT'
  | 'ERR_TOKEN_ENDPOINT_UNREACHABLE'
  | 'ERR_TOKEN_RESPONSE_INVALID'
  | 'ERR_JWT_MALFORMED'
  | 'ERR_JWT_ALG_NOT_ALLOWED'
  | 'ERR_JWT_SIGNATURE_INVALID'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_CLAIM_INVALID'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_CALLBACK_HANDLER_FAILED'
  | 'ERR_CROSS_SITE_REQUEST'
  | 'ERR_REDIS_UNAVAILABLE'
  | 'ERR_JWT_REVOKED'
  | 'ERR_LOGIN_UNEXPECTED';

/** @publicApi */
export abstract class CognitoError extends Error {
  abstract readonly code: CognitoErrorCode;

  /**
   * Short snake_case reason put in the error redirect's query (`?error=<reason>`),
   * so the error page can explain what happened without seeing any detail.
   */
  abstract readonly reason: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
