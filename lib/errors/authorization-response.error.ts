import { CognitoError } from './cognito.error.js';

/** The OAuth error codes Cognito's /oauth2/authorize can send back (plus OIDC's prompt=none ones). */
const KNOWN_AUTHORIZE_ERRORS = new Set([
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
]);

/**
 * Cognito redirected back with `error=…` instead of a code (the user cancelled,
 * `prompt=none` without a session, a federated IdP failed, …).
 *
 * @publicApi
 */
export class AuthorizationResponseError extends CognitoError {
  readonly code = 'ERR_AUTHORIZATION_RESPONSE' as const;
  readonly reason: string;
  /** Cognito's `error` value; unknown values are replaced by `unknown_error`. */
  readonly oauthError: string;
  /** Cognito's `error_description`, shortened; it is Cognito's text, not the user's. */
  readonly description: string | undefined;

  constructor(oauthError: string, description: string | undefined) {
    const known = KNOWN_AUTHORIZE_ERRORS.has(oauthError) ? oauthError : 'unknown_error';
    super(`Cognito returned an authorization error: ${known}`);
    this.oauthError = known;
    this.reason = known;
    this.description = description?.slice(0, 200);
  }
}
