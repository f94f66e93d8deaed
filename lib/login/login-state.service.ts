import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { LoginFlowError } from '../errors/login-flow.error.js';
import { CookieSealer } from '../http/cookie-sealer.js';
import { sameString } from '../tokens/constant-time.util.js';
import { cookiePrefix, readCookies, serializeCookie, type SetCookie } from '../http/cookies.util.js';

/** What a started login remembers until the browser comes back. @internal */
export interface LoginState {
  state: string;
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
  returnTo?: string;
}

/** More parallel logins than this (open tabs) drop the oldest, keeping the Cookie header small. */
const MAX_PENDING_LOGINS = 4;
/**
 * One login cookie (`name=value`). Browsers drop a cookie over 4,096 bytes without a word; this
 * is half that, so that even logins started at the same moment (which cannot see each other's
 * cookies) add little: a `returnTo` of up to about 1,000 encoded characters fits.
 */
const MAX_LOGIN_COOKIE_BYTES = 2000;
/** All pending login cookies together. */
const MAX_PENDING_LOGIN_BYTES = 8000;
/**
 * The whole Cookie header, session cookies included: servers refuse requests whose headers
 * pass 16 KiB (Node's default) with 431, which would lock the user out of every route.
 */
const MAX_COOKIE_HEADER_BYTES = 12 * 1024;

/**
 * Keeps a started login in its own short-lived sealed cookie, so no server-side store
 * is needed and any instance that shares the secret can finish the login. The cookie
 * name carries a hash of the state, so logins started in several tabs do not overwrite
 * each other.
 *
 * @internal
 */
@Injectable()
export class LoginStateService {
  private readonly prefix: string;

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly sealer: CookieSealer,
  ) {
    this.prefix = `${cookiePrefix(config)}${config.cookieNamePrefix}-login.`;
  }

  /**
   * Seals a new login; returns the cookies to set: the new one, plus removals of the oldest
   * pending ones when there are too many, or when they (with the request's other cookies)
   * would grow too large together. A `returnTo` that does not fit (percent-encoding can triple
   * it) is dropped, never fatal.
   */
  async save(request: unknown, login: LoginState): Promise<SetCookie[]> {
    const name = this.cookieName(login.state);
    const pending = this.pendingCookies(request);
    const pendingBytes = pending.reduce((sum, [other, value]) => sum + byteLength(other, value), 0);
    const otherBytes = Math.max(0, cookieHeaderBytes(request) - pendingBytes);

    let sealed = this.sealer.seal('login-state', login, this.config.loginTimeoutSeconds);
    const fits = (value: string) =>
      byteLength(name, value) <= MAX_LOGIN_COOKIE_BYTES && otherBytes + byteLength(name, value) <= MAX_COOKIE_HEADER_BYTES;
    if (!fits(sealed) && login.returnTo !== undefined) {
      sealed = this.sealer.seal('login-state', { ...login, returnTo: undefined }, this.config.loginTimeoutSeconds);
    }

    let total = byteLength(name, sealed) + pendingBytes;
    let dropped = 0;
    // Oldest first: browsers send cookies of the same path in the order they were created.
    while (
      dropped < pending.length &&
      (pending.length - dropped >= MAX_PENDING_LOGINS || total > MAX_PENDING_LOGIN_BYTES || otherBytes + total > MAX_COOKIE_HEADER_BYTES)
    ) {
      total -= byteLength(...pending[dropped]);
      dropped++;
    }
    return [this.cookie(name, sealed), ...pending.slice(0, dropped).map(([other]) => this.cookie(other, ''))];
  }

  /**
   * Finds and opens the login that `state` belongs to. The cookie is cleared whatever
   * happens (single use), so the returned `clear` cookies must always be sent.
   */
  async consume(request: unknown, state: string | undefined): Promise<{ login?: LoginState; error?: LoginFlowError; clear: SetCookie[] }> {
    if (state === undefined || state.length === 0 || state.length > 512) {
      return { error: new LoginFlowError('ERR_CALLBACK_MISSING_STATE'), clear: [] };
    }
    const name = this.cookieName(state);
    const sealed = readCookies(request).get(name);
    if (sealed === undefined) {
      const others = this.pendingCookies(request).length > 0;
      return { error: new LoginFlowError(others ? 'ERR_STATE_MISMATCH' : 'ERR_LOGIN_COOKIE_MISSING'), clear: [] };
    }
    const clear = [this.cookie(name, '')];
    const opened = this.sealer.open('login-state', sealed);
    if (opened === 'expired') return { error: new LoginFlowError('ERR_LOGIN_EXPIRED'), clear };
    const login = asLoginState(opened);
    if (login === undefined) return { error: new LoginFlowError('ERR_LOGIN_COOKIE_INVALID'), clear };
    if (!sameString(login.state, state)) return { error: new LoginFlowError('ERR_STATE_MISMATCH'), clear };
    return { login, clear };
  }

  private pendingCookies(request: unknown): [name: string, value: string][] {
    return [...readCookies(request)].filter(([name]) => name.startsWith(this.prefix));
  }

  private cookieName(state: string): string {
    return this.prefix + createHash('sha256').update(state).digest('base64url').slice(0, 16);
  }

  private cookie(name: string, value: string): SetCookie {
    return serializeCookie(name, value, { maxAgeSeconds: value === '' ? 0 : this.config.loginTimeoutSeconds, secure: this.config.secureCookies });
  }
}

/** What a cookie weighs in the Cookie header (`name=value` and the `; ` before the next). */
function byteLength(name: string, value: string): number {
  return Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 2;
}

function cookieHeaderBytes(request: unknown): number {
  const header = (request as { headers?: Record<string, unknown> } | undefined)?.headers?.cookie;
  return typeof header === 'string' ? Buffer.byteLength(header) : 0;
}

function asLoginState(value: unknown): LoginState | undefined {
  const { state, codeVerifier, nonce, redirectUri, returnTo } = (value ?? {}) as Record<string, unknown>;
  if (typeof state !== 'string' || typeof codeVerifier !== 'string' || typeof nonce !== 'string' || typeof redirectUri !== 'string') return undefined;
  return { state, codeVerifier, nonce, redirectUri, returnTo: typeof returnTo === 'string' ? returnTo : undefined };
}
