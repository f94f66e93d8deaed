import { CognitoError } from './cognito.error.js';

export type TokenEndpointErrorCode =
  | 'ERR_TOKEN_ENDPOINT_ERROR'
  | 'ERR_TOKEN_ENDPOINT_TIMEOUT'
  | 'ERR_TOKEN_ENDPOINT_UNREACHABLE'
  | 'ERR_TOKEN_RESPONSE_INVALID';

/**
 * A call to Cognito's /oauth2/token failed. `oauthError` carries Cognito's `error`
 * (`invalid_grant`, `invalid_client`, …) when it sent one, `status` the HTTP status
 * when a response arrived.
 *
 * @publicApi
 */
export class TokenEndpointError extends CognitoError {
  readonly reason: string;

  constructor(
    readonly code: TokenEndpointErrorCode,
    message: string,
    readonly details: { status?: number; oauthError?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.reason = reasonFor(code, details);
  }

  get status(): number | undefined {
    return this.details.status;
  }

  get oauthError(): string | undefined {
    return this.details.oauthError;
  }
}

function reasonFor(code: TokenEndpointErrorCode, details: { status?: number; oauthError?: string }): string {
  if (code === 'ERR_TOKEN_ENDPOINT_TIMEOUT' || code === 'ERR_TOKEN_ENDPOINT_UNREACHABLE') return 'cognito_unavailable';
  if (code === 'ERR_TOKEN_ENDPOINT_ERROR' && details.status !== undefined && details.status >= 500) return 'cognito_unavailable';
  if (details.oauthError === 'invalid_grant') return 'invalid_grant';
  if (details.oauthError === 'invalid_client') return 'invalid_client';
  return 'token_exchange_failed';
}
