import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { CognitoError } from '../errors/cognito.error.js';
import { JwtVerificationError } from '../errors/jwt-verification.error.js';
import { TokenEndpointError } from '../errors/token-endpoint.error.js';
import { withdrawSetCookies, type SetCookie } from '../http/cookies.util.js';
import type { CognitoAccessTokenClaims, CognitoTokenSet } from '../tokens/cognito-claims.interface.js';
import { JwksVerifierService } from '../tokens/jwks-verifier.service.js';
import { TokenExchangeService } from '../tokens/token-exchange.service.js';
import type { CognitoSessionState } from './cognito-session.interface.js';
import { RefreshCoordinator } from './refresh-coordinator.js';
import { SessionStore, type StoredSession } from './session-store.js';

/**
 * Opt-in token cookies: keeps the token set in encrypted, HttpOnly, SameSite=Lax cookies
 * (`__Host-` and Secure on https), refreshes it when the access token is about to expire,
 * and signs out at Cognito. Everything lives in the cookies, so any instance that shares
 * the cookie secret serves the same user.
 *
 * @example
 * ```ts
 * async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext) {
 *   await this.session.establish(ctx.response, result.tokens);
 * }
 * ```
 *
 * @publicApi
 */
@Injectable()
export class CognitoSessionService {
  private readonly logger = new Logger('CognitoModule');
  /** What `resume()` found for each response still in flight (weakly held: gone with the response). */
  private readonly resumed = new WeakMap<object, Promise<CognitoSessionState>>();
  private readonly expiries = new WeakMap<StoredSession, number | undefined>();
  /** Responses on which `establish()` queued session cookies, so a failed login can take them back. */
  private readonly establishedOn = new WeakSet<object>();

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly store: SessionStore,
    private readonly refresher: RefreshCoordinator,
    private readonly tokens: TokenExchangeService,
    private readonly verifier: JwksVerifierService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Stores a token set (from the callback's `result.tokens`) in the session cookies. */
  async establish(response: unknown, tokens: CognitoTokenSet): Promise<void> {
    this.setCookies(response, await this.cookiesFor({ at: tokens.accessToken, rt: tokens.refreshToken, it: tokens.idToken || undefined }));
    this.forget(response);
    if (typeof response === 'object' && response !== null) this.establishedOn.add(response);
  }

  /**
   * Undoes `establish()` on a response that ends in an error (the callback handler threw after
   * establishing the session): the queued session cookies are taken back and cleared in the
   * same response, so a failed login never leaves the user signed in. Does nothing when no
   * session was established on this response (a junk callback must not sign anyone out).
   *
   * @internal used by the login flow, before the app's onError runs
   */
  withdraw(response: unknown): void {
    if (typeof response !== 'object' || response === null || !this.establishedOn.has(response)) return;
    this.establishedOn.delete(response);
    withdrawSetCookies(response, (line) => this.store.isSessionCookie(line));
    this.clear(response);
  }

  /**
   * The verified session of this request. When the access token expires within
   * `sessionRefreshMarginSeconds`, it is refreshed first (once per browser, however many
   * requests arrive together) and the cookies are re-issued on `response`.
   * Throws `TokenEndpointError` or `JwksUnavailableError` when Cognito cannot be reached
   * and the current access token is no longer usable (answer 503, not 401).
   */
  resume(request: unknown, response: unknown): Promise<CognitoSessionState> {
    // One reading per response: a global guard and a page that both resume the session share
    // it, so an unusable cookie is cleared once and a session is refreshed once per request.
    if (typeof response !== 'object' || response === null) return this.read(request, response);
    let resumed = this.resumed.get(response);
    if (resumed === undefined) this.resumed.set(response, (resumed = this.read(request, response)));
    return resumed;
  }

  private async read(request: unknown, response: unknown): Promise<CognitoSessionState> {
    const stored = await this.store.read(request);
    if (stored === undefined) return { status: 'none' };
    if (stored === 'invalid') {
      this.clearCookies(response);
      return { status: 'none' };
    }

    if (!this.expiresSoon(stored)) {
      try {
        return await this.activeState(stored, false);
      } catch (error) {
        if (!(error instanceof JwtVerificationError) || error.code !== 'ERR_JWT_EXPIRED') return this.dropInvalid(response, error);
      }
    }
    if (stored.rt === undefined) return this.endSession(response);

    let renewed: StoredSession;
    try {
      renewed = await this.refresher.run(stored.rt, () => this.refresh(stored));
    } catch (error) {
      if (error instanceof TokenEndpointError && error.oauthError === 'invalid_grant') return this.endSession(response);
      if (error instanceof TokenEndpointError && !this.isExpired(stored)) {
        // Cognito is unreachable but the access token still has a little life: use it.
        this.logger.warn(`Session refresh failed (${error.code}); the current access token is still valid`);
        return this.activeState(stored, false).catch((verifyError: unknown) => this.dropInvalid(response, verifyError));
      }
      throw error;
    }
    // The new tokens come straight from Cognito: keep them even if verifying them fails
    // (a JWKS outage), so a rotated refresh token is never lost.
    this.setCookies(response, await this.cookiesFor(renewed));
    return this.activeState(renewed, true);
  }

  /**
   * The session's access-token claims when all of it is known already: its cookies were opened
   * before, its access token was verified before, and it is not due for a refresh. Otherwise
   * `undefined`, and the caller resumes the session in full. Synchronous, and sets no cookie: the
   * guard answers most requests of a browser session with it, as it does a repeated bearer token.
   *
   * @internal
   */
  knownAccessClaims(request: unknown): CognitoAccessTokenClaims | undefined {
    const stored = this.store.readKnown(request);
    if (stored === undefined || this.expiresSoon(stored)) return undefined;
    try {
      return this.verifier.verifyKnown(stored.at, 'access') as CognitoAccessTokenClaims | undefined;
    } catch {
      return undefined; // the full path says why
    }
  }

  /**
   * The session as its cookies hold it, without refreshing it and without setting a cookie: for
   * a WebSocket upgrade or a GraphQL subscription, which have no response to carry renewed cookies
   * (a refresh there would lose a rotated refresh token). An expired access token throws
   * `JwtVerificationError` (`ERR_JWT_EXPIRED`); any request over HTTP renews it.
   *
   * @internal
   */
  async inspect(request: unknown): Promise<CognitoSessionState> {
    const stored = this.store.readKnown(request) ?? (await this.store.read(request));
    if (stored === undefined || stored === 'invalid') return { status: 'none' };
    return this.activeState(stored, false);
  }

  /** Whether the request carries this module's session cookies (opened or not). */
  hasSessionCookies(request: unknown): boolean {
    return this.store.isPresent(request);
  }

  /** Clears the session cookies (no call to Cognito). */
  clear(response: unknown): void {
    this.forget(response);
    this.clearCookies(response);
  }

  private clearCookies(response: unknown): void {
    this.setCookies(response, this.store.clear());
  }

  /** A later `resume()` on this response reads the session again (it was just established or ended). */
  private forget(response: unknown): void {
    if (typeof response === 'object' && response !== null) this.resumed.delete(response);
  }

  /**
   * Cognito's `/logout?client_id=…&logout_uri=…`, which ends the Hosted UI session and sends
   * the browser to `logoutUri`; `undefined` when no `logoutUri` is configured.
   */
  logoutUrl(): string | undefined {
    if (this.config.logoutUri === undefined) return undefined;
    const url = new URL(this.config.logoutEndpoint);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('logout_uri', this.config.logoutUri);
    return url.toString();
  }

  /**
   * Signs out: revokes the refresh token at Cognito (best effort: a failure is logged and
   * logout goes on), clears the cookies, and returns where to send the browser.
   */
  async logout(request: unknown, response: unknown): Promise<string> {
    const stored = await this.store.read(request);
    if (typeof stored === 'object' && stored.rt !== undefined) {
      try {
        await this.tokens.revoke(stored.rt);
      } catch (error) {
        this.logger.warn(`Revoking the refresh token failed (${error instanceof CognitoError ? error.code : 'unknown error'}); signing out anyway`);
      }
    }
    this.clear(response);
    return this.logoutUrl() ?? this.config.postLogoutRedirect;
  }

  private async refresh(stored: StoredSession): Promise<StoredSession> {
    const tokens = await this.tokens.refresh(stored.rt!);
    // Without rotation Cognito sends no new refresh token: keep the old one.
    return { at: tokens.accessToken, rt: tokens.refreshToken ?? stored.rt, it: tokens.idToken || stored.it };
  }

  private async activeState(stored: StoredSession, refreshed: boolean): Promise<CognitoSessionState> {
    const accessToken = await this.verifier.verifyAccessToken(stored.at);
    const idToken = this.config.sessionIncludeIdToken && stored.it ? await this.verifier.verifyIdToken(stored.it) : undefined;
    return { status: 'active', accessToken, idToken, accessTokenValue: stored.at, refreshed };
  }

  /** A token that fails verification for another reason than expiry means no session (a JWKS outage is rethrown). */
  private dropInvalid(response: unknown, error: unknown): CognitoSessionState {
    if (!(error instanceof JwtVerificationError) && !(error instanceof CognitoError && error.code === 'ERR_JWKS_NO_MATCHING_KEY')) throw error;
    this.logger.warn(`Session cookie holds a token that failed verification (${error.code}); the session is dropped`);
    this.clearCookies(response);
    return { status: 'none' };
  }

  private endSession(response: unknown): CognitoSessionState {
    this.clearCookies(response);
    return { status: 'login_required' };
  }

  private async cookiesFor(session: StoredSession): Promise<SetCookie[]> {
    const stored = this.config.sessionIncludeIdToken ? session : { at: session.at, rt: session.rt };
    const cookies = await this.store.write(stored);
    if (cookies !== undefined) return cookies;
    this.logger.warn('The session is too large for its cookies with the ID token; storing it without');
    const withoutIdToken = await this.store.write({ at: session.at, rt: session.rt });
    if (withoutIdToken === undefined) throw new TypeError('The access and refresh tokens are too large for the session cookies');
    return withoutIdToken;
  }

  /**
   * The access token's `exp`, read once per session object: the session store hands out the same
   * (frozen) object for every request of a session, so the token is decoded on its first only.
   */
  private expiryOf(session: StoredSession): number | undefined {
    if (this.expiries.has(session)) return this.expiries.get(session);
    const exp = unverifiedExpiry(session.at);
    this.expiries.set(session, exp);
    return exp;
  }

  private expiresSoon(session: StoredSession): boolean {
    const exp = this.expiryOf(session);
    return exp === undefined || exp - this.config.sessionRefreshMarginSeconds <= Date.now() / 1000;
  }

  private isExpired(session: StoredSession): boolean {
    const exp = this.expiryOf(session);
    return exp === undefined || exp <= Date.now() / 1000;
  }

  private setCookies(response: unknown, cookies: SetCookie[]): void {
    const adapter = this.adapterHost.httpAdapter;
    for (const cookie of cookies) adapter.appendHeader(response, 'Set-Cookie', cookie);
  }
}

/** Only decides when to refresh; the token is verified before anything trusts it. */
function unverifiedExpiry(token: string): number | undefined {
  try {
    const exp = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}
