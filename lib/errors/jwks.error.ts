import { CognitoError } from './cognito.error.js';

/**
 * The token names a key (`kid`) that the user pool's key set does not hold,
 * even after refetching it.
 *
 * @publicApi
 */
export class JwksNoMatchingKeyError extends CognitoError {
  readonly code = 'ERR_JWKS_NO_MATCHING_KEY' as const;
  readonly reason = 'token_invalid';

  constructor() {
    super("No key in the user pool's JWKS matches the token's kid");
  }
}

/**
 * The user pool's key set could not be fetched (unreachable, timeout, not JSON,
 * no usable key) and no cached copy exists. Callers should answer 503, not 401:
 * the token may be fine.
 *
 * @publicApi
 */
export class JwksUnavailableError extends CognitoError {
  readonly code = 'ERR_JWKS_UNAVAILABLE' as const;
  readonly reason = 'jwks_unavailable';

  constructor(detail: string, options?: { cause?: unknown }) {
    super(`The user pool's JWKS could not be loaded: ${detail}`, options);
  }
}
