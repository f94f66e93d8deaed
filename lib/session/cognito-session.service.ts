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
import { unverifiedPayload } from '../tokens/jwt.util.js';
import { TokenExchangeService } from '../tokens/token-exchange.service.js';
import type { CognitoSessionState } from './cognito-session.interface.js';
import { FleetRefresh } from '../fleet/fleet-refresh.js';
import { RevocationList } from '../fleet/revocation-list.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
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
  private readonly payloads = new WeakMap<StoredSession, Readonly<Record<string, unknown>>>();
  /** Responses on which `establish()` queued session cookies, so a failed login can take them back. */
  private readonly establishedOn = new WeakSet<object>();

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly store: SessionStore,
    private readonly refresher: RefreshCoordinator,
    private readonly tokens: TokenExchangeService,
    private readonly verifier: JwksVerifierService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly revocations: RevocationList,
    private readonly fleet: FleetRefresh,
  ) {
    // A server-side session whose logout happened while Redis was away is revoked when it is back.
    store.onLateLogout((stored) => this.revokeStored(stored));
  }

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
    // Signed out (here or on another instance): the session ended, as when Cognito refuses its
    // refresh token. Checked before any refresh, which would only renew a revoked session.
    if (this.isRevoked(stored)) return this.endSession(response);

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
      // One refresh per refresh token in this process, and with Redis one across the fleet.
      const rt = stored.rt;
      renewed = { ...(await this.refresher.run(rt, () => this.fleet.run(rt, () => this.refresh(stored)))), sid: stored.sid };
    } catch (error) {
      if (error instanceof TokenEndpointError && error.oauthError === 'invalid_grant') return this.endSession(response);
      if (error instanceof TokenEndpointError && !this.isExpired(stored)) {
        // Cognito is unreachable but the access token still has a little life: use it.
        this.logger.warn(`Session refresh failed (${error.code}); the current access token is still valid`);
        return this.activeState(stored, false).catch((verifyError: unknown) => this.dropInvalid(response, verifyError));
      }
      throw error;
    }
    // Signed out while Cognito was answering (a logout or revokeUser() on any instance): the
    // new tokens must not outlive it.
    if (this.isRevoked(stored) || this.isRevoked(renewed)) return this.endSession(response);
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
    if (stored === undefined || this.expiresSoon(stored) || this.revocations.isRefreshTokenRevoked(stored.rt, stored)) return undefined;
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
    if (this.isRevoked(stored)) throw new JwtVerificationError('ERR_JWT_REVOKED', 'The session has been revoked (signed out)');
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
    let stored: StoredSession | 'invalid' | undefined;
    try {
      stored = await this.store.read(request);
    } catch (error) {
      // Server-side sessions with Redis away: the cookie goes now, the entry when Redis is back.
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.logger.warn(`Signing out without reading the session (${error.message}); its entry is deleted when Redis is back`);
      this.store.destroyWhenPossible(request);
    }
    if (typeof stored === 'object') await this.revokeStored(stored);
    this.clear(response);
    return this.logoutUrl() ?? this.config.postLogoutRedirect;
  }

  /**
   * Signs a user out everywhere: every token of `sub` issued until now is refused, on this instance
   * at once and on every instance that shares Redis within a second, whatever cookie or bearer
   * token carries it, and the user's sessions end (they are checked before being refreshed); with
   * `sessionStore: 'redis'` their server-side entries are deleted. A new sign-in works two seconds
   * later (Cognito's times are whole seconds, and its `iat` can run a second ahead). Cognito itself is not told: a refresh
   * token taken out of the app stays usable at Cognito until `AdminUserGlobalSignOut` (which
   * needs AWS credentials) revokes it.
   */
  async revokeUser(sub: string): Promise<void> {
    if (typeof sub !== 'string' || sub.length === 0) throw new TypeError('revokeUser(): sub must be a non-empty string');
    await this.revocations.revokeUser(sub);
    await this.store.destroyUser(sub).catch((error: unknown) => {
      if (!(error instanceof RedisUnavailableError)) throw error;
      // Their tokens are refused anyway; the entries expire with the session's max age.
      this.logger.warn(`The user's server-side sessions could not be deleted (${error.message})`);
    });
  }

  /**
   * What a logout does to the session itself: its refresh token revoked at Cognito (best effort),
   * its tokens refused on every instance (not only where the cookie is cleared), and a
   * server-side entry deleted.
   */
  private async revokeStored(stored: StoredSession): Promise<void> {
    let revokedAtCognito = false;
    if (stored.rt !== undefined) {
      try {
        await this.tokens.revoke(stored.rt);
        revokedAtCognito = true;
      } catch (error) {
        this.logger.warn(`Revoking the refresh token failed (${error instanceof CognitoError ? error.code : 'unknown error'}); signing out anyway`);
      }
    }
    // A family whose refresh token Cognito did not revoke can still be refreshed: revoke it as
    // long as a session lives.
    const payloads = [stored.at, stored.it].flatMap((token) => (token === undefined ? [] : [unverifiedPayload(token) ?? {}]));
    await this.revocations.revokeTokens(payloads, revokedAtCognito ? 0 : this.config.sessionMaxAgeSeconds);
    await this.store.destroy(stored).catch((error: unknown) => this.logger.warn(`The server-side session could not be deleted (${error instanceof CognitoError ? error.message : 'error'})`));
  }

  /** Revoked on any instance: its refresh token (`revoke()`), its family or its user. */
  private isRevoked(stored: StoredSession): boolean {
    if (this.revocations.isRefreshTokenRevoked(stored.rt, stored)) return true;
    try {
      this.revocations.check(this.payloadOf(stored));
      return false;
    } catch (error) {
      if (error instanceof JwtVerificationError) return true;
      throw error;
    }
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
    const stored = this.config.sessionIncludeIdToken ? session : { at: session.at, rt: session.rt, sid: session.sid };
    const cookies = await this.store.write(stored);
    if (cookies !== undefined) return cookies;
    this.logger.warn('The session is too large for its cookies with the ID token; storing it without');
    const withoutIdToken = await this.store.write({ at: session.at, rt: session.rt, sid: session.sid });
    if (withoutIdToken === undefined) throw new TypeError('The access and refresh tokens are too large for the session cookies');
    return withoutIdToken;
  }

  /**
   * The access token's `exp`, read once per session object: the session store hands out the same
   * (frozen) object for every request of a session, so the token is decoded on its first only.
   */
  private expiryOf(session: StoredSession): number | undefined {
    const exp = this.payloadOf(session).exp;
    return typeof exp === 'number' ? exp : undefined;
  }

  /**
   * The access token's claims, decoded once per session object (the session store hands out the
   * same object for every request of a session). Unverified: only to decide when to refresh and
   * whether it was signed out; the token is verified before anything trusts it.
   */
  private payloadOf(session: StoredSession): Readonly<Record<string, unknown>> {
    let payload = this.payloads.get(session);
    if (payload === undefined) this.payloads.set(session, (payload = unverifiedPayload(session.at) ?? {}));
    return payload;
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
