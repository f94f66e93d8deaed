import { CognitoError } from './cognito.error.js';

export type JwtVerificationErrorCode =
  | 'ERR_JWT_MALFORMED'
  | 'ERR_JWT_ALG_NOT_ALLOWED'
  | 'ERR_JWT_SIGNATURE_INVALID'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_CLAIM_INVALID'
  /** Signed out: by a logout, `revoke()` or `revokeUser()` on any instance sharing Redis (or this one). */
  | 'ERR_JWT_REVOKED';

/**
 * A token failed verification. For claim failures, `claim` names the claim
 * (`iss`, `aud`, `client_id`, `token_use`, `nonce`, `iat`, …).
 *
 * @publicApi
 */
export class JwtVerificationError extends CognitoError {
  readonly reason: string;

  constructor(
    readonly code: JwtVerificationErrorCode,
    message: string,
    readonly claim?: string,
  ) {
    super(message);
    if (claim === 'nonce') this.reason = 'nonce_mismatch';
    else if (code === 'ERR_JWT_EXPIRED') this.reason = 'token_expired';
    else if (code === 'ERR_JWT_REVOKED') this.reason = 'token_revoked';
    else this.reason = 'token_invalid';
  }
}
