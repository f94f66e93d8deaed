import { CognitoError } from './cognito.error.js';

/**
 * Something this module did not foresee went wrong during the callback. It is
 * still turned into an error redirect (never a 500); the cause is kept for debugging.
 *
 * @publicApi
 */
export class UnexpectedLoginError extends CognitoError {
  readonly code = 'ERR_LOGIN_UNEXPECTED' as const;
  readonly reason = 'internal_error';

  constructor(cause: unknown) {
    super('The login callback failed unexpectedly', { cause });
  }
}
