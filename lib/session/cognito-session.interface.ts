import type { CognitoAccessTokenClaims, CognitoIdTokenClaims } from '../tokens/cognito-claims.interface.js';

/**
 * The outcome of `CognitoSessionService.resume()`:
 * - `active`: verified claims (refreshed when the access token was about to expire);
 * - `none`: no session cookies, or cookies this app cannot read (altered, foreign, expired);
 * - `login_required`: the session ended: signed out (logout, `revoke()`, `revokeUser()`, on any instance sharing Redis), or its refresh token was revoked or expired at Cognito; the cookies were cleared.
 *
 * @publicApi
 */
export type CognitoSessionState =
  | {
      status: 'active';
      accessToken: CognitoAccessTokenClaims;
      /** Present when `sessionIncludeIdToken` is on. */
      idToken?: CognitoIdTokenClaims;
      /** The raw access token, e.g. to call an API on the user's behalf. */
      accessTokenValue: string;
      refreshed: boolean;
    }
  | { status: 'none' }
  | { status: 'login_required' };
