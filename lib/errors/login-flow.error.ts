import { CognitoError } from './cognito.error.js';

export type LoginFlowErrorCode =
  | 'ERR_CALLBACK_MISSING_CODE'
  | 'ERR_CALLBACK_MISSING_STATE'
  | 'ERR_LOGIN_COOKIE_MISSING'
  | 'ERR_LOGIN_COOKIE_INVALID'
  | 'ERR_LOGIN_EXPIRED'
  | 'ERR_STATE_MISMATCH';

const MESSAGES: Record<LoginFlowErrorCode, [reason: string, message: string]> = {
  ERR_CALLBACK_MISSING_CODE: ['missing_code', 'The callback request has no authorization code'],
  ERR_CALLBACK_MISSING_STATE: ['missing_state', 'The callback request has no state parameter'],
  ERR_LOGIN_COOKIE_MISSING: [
    'login_cookie_missing',
    'No login cookie came with the callback: the login did not start in this browser, or cookies are blocked',
  ],
  ERR_LOGIN_COOKIE_INVALID: [
    'login_cookie_invalid',
    'The login cookie could not be decrypted: it was altered, or the cookie secret changed',
  ],
  ERR_LOGIN_EXPIRED: ['login_expired', 'The login took too long: the login cookie expired'],
  ERR_STATE_MISMATCH: [
    'state_mismatch',
    'The state parameter does not match any login started in this browser (forged, altered or replayed callback)',
  ],
};

/**
 * The browser came back to the callback in a way that does not belong to a login
 * it started: the CSRF protections (state, login cookie) rejected it.
 *
 * @publicApi
 */
export class LoginFlowError extends CognitoError {
  readonly reason: string;

  constructor(readonly code: LoginFlowErrorCode) {
    const [reason, message] = MESSAGES[code];
    super(message);
    this.reason = reason;
  }
}
