import type { CognitoError } from '../errors/cognito.error.js';
import type { CognitoAccessTokenClaims, CognitoIdTokenClaims, CognitoTokenSet } from '../tokens/cognito-claims.interface.js';

/** What a successful login hands to the application. @publicApi */
export interface CognitoLoginResult {
  /** Verified ID-token claims (nonce already checked). */
  idToken: CognitoIdTokenClaims;
  /** Verified access-token claims. */
  accessToken: CognitoAccessTokenClaims;
  /** The raw tokens, e.g. to keep the refresh token. */
  tokens: CognitoTokenSet;
  /** The validated relative path the login was started with (`/auth/login?returnTo=/orders`), if any. */
  returnTo?: string;
}

/** The platform's request and response (Express or Fastify). @publicApi */
export interface CognitoCallbackContext<Request = any, Response = any> {
  request: Request;
  response: Response;
}

/**
 * What the handler may return. Without `redirectTo`, the browser goes to `returnTo`,
 * else to `successRedirect` (or to `errorRedirect?error=<reason>` from `onError`).
 * If the handler already sent a response itself, nothing more is sent.
 *
 * @publicApi
 */
export interface CognitoCallbackOutcome {
  redirectTo?: string;
}

/**
 * The application's own login workflow, given as `callbackHandler` and injected
 * through `COGNITO_CALLBACK_HANDLER`. The module never touches a user store: this
 * class decides what a login means.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class LoginHandler implements CognitoCallbackHandler {
 *   constructor(private readonly users: UsersService) {}
 *   async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext) {
 *     await this.users.upsert(result.idToken.sub, result.idToken.email);
 *     return { redirectTo: result.returnTo ?? '/welcome' };
 *   }
 * }
 * ```
 *
 * @publicApi
 */
export interface CognitoCallbackHandler {
  onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext): CognitoCallbackOutcome | void | Promise<CognitoCallbackOutcome | void>;
  onError?(error: CognitoError, ctx: CognitoCallbackContext): CognitoCallbackOutcome | void | Promise<CognitoCallbackOutcome | void>;
}
