import { CognitoError } from './cognito.error.js';

/**
 * A state-changing request (`POST`, `PUT`, `PATCH`, `DELETE`) would have been authenticated by the
 * session cookie, but it does not come from the app's own pages or a trusted origin (CSRF
 * protection, `csrfProtection`). Answered with 403.
 *
 * @publicApi
 */
export class CrossSiteRequestError extends CognitoError {
  readonly code = 'ERR_CROSS_SITE_REQUEST' as const;
  readonly reason = 'cross_site_request';

  constructor(detail: string) {
    super(`Cross-site request refused: ${detail}; the session cookie only works for requests from this app's own pages (or trustedOrigins)`);
  }
}
