import { Inject, Injectable } from '@nestjs/common';
import { createHash, hkdfSync, timingSafeEqual } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { LoginFlowError } from '../errors/login-flow.error.js';
import { readCookies, serializeCookie } from '../http/platform.util.js';

/** What a started login remembers until the browser comes back. @internal */
export interface LoginState {
  state: string;
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
  returnTo?: string;
}

/** A cookie to set or clear, ready for `Set-Cookie`. @internal */
export type SetCookie = string;

/** More parallel logins than this (open tabs) drop the oldest, keeping the Cookie header small. */
const MAX_PENDING_LOGINS = 4;
const COOKIE_BASENAME = 'cognito-login';

/**
 * Keeps a started login in its own short-lived cookie, encrypted and authenticated
 * (JWE, dir + A256GCM, key derived from the cookie secret), so no server-side store is
 * needed and any instance that shares the secret can finish the login. The cookie name
 * carries a hash of the state, so logins started in several tabs do not overwrite each other.
 *
 * @internal
 */
@Injectable()
export class LoginStateService {
  private readonly keys: { kid: string; key: Uint8Array }[];
  private readonly prefix: string;

  constructor(@Inject(COGNITO_CONFIG) private readonly config: CognitoConfig) {
    this.keys = config.cookieSecrets.map((secret) => {
      const key = new Uint8Array(hkdfSync('sha256', secret, 'nestjs-cognito-lowlevel', 'login-state-v1', 32));
      return { kid: createHash('sha256').update(key).digest('base64url').slice(0, 8), key };
    });
    this.prefix = `${config.secureCookies ? '__Host-' : ''}${COOKIE_BASENAME}.`;
  }

  /** Seals a new login; returns the cookies to set (the new one, plus removals of the oldest pending ones). */
  async save(request: unknown, login: LoginState): Promise<SetCookie[]> {
    const { kid, key } = this.keys[0];
    const sealed = await new EncryptJWT({ ...login })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .setIssuedAt()
      .setExpirationTime(`${this.config.loginTimeoutSeconds}s`)
      .encrypt(key);
    const pending = [...this.pendingCookieNames(request)];
    const stale = pending.slice(0, Math.max(0, pending.length - (MAX_PENDING_LOGINS - 1)));
    return [this.cookie(this.cookieName(login.state), sealed), ...stale.map((name) => this.cookie(name, ''))];
  }

  /**
   * Finds and opens the login that `state` belongs to. The cookie is cleared whatever
   * happens (single use), so the returned `clear` cookie must always be sent.
   */
  async consume(request: unknown, state: string | undefined): Promise<{ login?: LoginState; error?: LoginFlowError; clear: SetCookie[] }> {
    if (state === undefined || state.length === 0 || state.length > 512) {
      return { error: new LoginFlowError('ERR_CALLBACK_MISSING_STATE'), clear: [] };
    }
    const name = this.cookieName(state);
    const sealed = readCookies(request).get(name);
    if (sealed === undefined) {
      const others = [...this.pendingCookieNames(request)].length > 0;
      return { error: new LoginFlowError(others ? 'ERR_STATE_MISMATCH' : 'ERR_LOGIN_COOKIE_MISSING'), clear: [] };
    }
    const clear = [this.cookie(name, '')];
    try {
      const login = await this.open(sealed);
      if (!sameString(login.state, state)) return { error: new LoginFlowError('ERR_STATE_MISMATCH'), clear };
      return { login, clear };
    } catch (error) {
      return { error: error instanceof LoginFlowError ? error : new LoginFlowError('ERR_LOGIN_COOKIE_INVALID'), clear };
    }
  }

  private async open(sealed: string): Promise<LoginState> {
    let payload;
    try {
      ({ payload } = await jwtDecrypt(sealed, (header) => this.keys.find((entry) => entry.kid === header.kid)?.key ?? this.keys[0].key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_JWT_EXPIRED') throw new LoginFlowError('ERR_LOGIN_EXPIRED');
      throw new LoginFlowError('ERR_LOGIN_COOKIE_INVALID');
    }
    const { state, codeVerifier, nonce, redirectUri, returnTo } = payload;
    if (typeof state !== 'string' || typeof codeVerifier !== 'string' || typeof nonce !== 'string' || typeof redirectUri !== 'string') {
      throw new LoginFlowError('ERR_LOGIN_COOKIE_INVALID');
    }
    return { state, codeVerifier, nonce, redirectUri, returnTo: typeof returnTo === 'string' ? returnTo : undefined };
  }

  private *pendingCookieNames(request: unknown): Iterable<string> {
    for (const name of readCookies(request).keys()) if (name.startsWith(this.prefix)) yield name;
  }

  private cookieName(state: string): string {
    return this.prefix + createHash('sha256').update(state).digest('base64url').slice(0, 16);
  }

  private cookie(name: string, value: string): SetCookie {
    return serializeCookie(name, value, {
      maxAgeSeconds: value === '' ? 0 : this.config.loginTimeoutSeconds,
      secure: this.config.secureCookies,
      sameSite: 'Lax',
    });
  }
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
