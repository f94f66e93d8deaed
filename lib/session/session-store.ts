import { Inject, Injectable } from '@nestjs/common';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { CookieSealer } from '../http/cookie-sealer.js';
import { cookiePrefix, readCookies, serializeCookie, type SetCookie } from '../http/cookies.util.js';
import { VerifiedTokenCache } from '../tokens/verified-token.cache.js';

/** The tokens a session keeps; short keys keep the cookies small. @internal */
export interface StoredSession {
  /** Access token. */
  at: string;
  /** Refresh token (a credential: the cookie is encrypted). */
  rt?: string;
  /** ID token, only with `sessionIncludeIdToken`. */
  it?: string;
}

/** Browsers cap one cookie at 4096 bytes of name and value; stay clear of it. */
const CHUNK_LENGTH = 3800;
/** Node's default header limit is 16 KiB for all headers together. */
const MAX_CHUNKS = 3;

/**
 * Keeps the session in sealed cookies `cognito-session.0`, `.1`, … (split because a
 * Cognito refresh token alone is about 1.8 KB, and an ID token with many groups can pass 4 KB).
 *
 * @internal
 */
@Injectable()
export class SessionStore {
  private readonly prefix: string;
  /**
   * Sessions already opened, by their whole sealed value (all chunks joined): every request of a
   * session brings the same cookies, so only its first pays for decrypting them. A value that
   * differs in any character (a tampered chunk, chunks of two sessions, a seal of another
   * secret) is not the same key and is opened, or refused, in full.
   */
  private readonly opened: VerifiedTokenCache<'session', StoredSession>;

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly sealer: CookieSealer,
  ) {
    this.prefix = `${cookiePrefix(config)}${config.cookieNamePrefix}-session.`;
    this.opened = new VerifiedTokenCache(config.sessionCacheSize);
  }

  /** The stored session; `undefined` without session cookies; `'invalid'` when they are altered, foreign, truncated or expired. */
  async read(request: unknown): Promise<StoredSession | 'invalid' | undefined> {
    const cookies = readCookies(request);
    const sealed = this.sealedValue(cookies);
    if (sealed === undefined) return [...cookies.keys()].some((name) => name.startsWith(this.prefix)) ? 'invalid' : undefined;
    const known = this.opened.get(sealed, Date.now());
    if (known !== undefined) return known.payload;
    const opened = this.sealer.openWithExpiry('session', sealed);
    if (typeof opened !== 'object') return 'invalid';
    const { at, rt, it } = (opened.data ?? {}) as Record<string, unknown>;
    if (typeof at !== 'string' || (rt !== undefined && typeof rt !== 'string') || (it !== undefined && typeof it !== 'string')) return 'invalid';
    const session: StoredSession = { at, rt, it };
    this.opened.set(sealed, 'session', session, opened.expiresAt * 1000);
    return session;
  }

  /** The stored session if its cookies were opened before (a cache hit), else `undefined`: never decrypts. */
  readKnown(request: unknown): StoredSession | undefined {
    const sealed = this.sealedValue(readCookies(request));
    return sealed === undefined ? undefined : this.opened.get(sealed, Date.now())?.payload;
  }

  /** The session cookies' chunks, joined in order (a missing chunk ends them). */
  private sealedValue(cookies: Map<string, string>): string | undefined {
    let sealed: string | undefined;
    for (let index = 0; index < MAX_CHUNKS; index++) {
      const chunk = cookies.get(`${this.prefix}${index}`);
      if (chunk === undefined) break;
      sealed = sealed === undefined ? chunk : sealed + chunk;
    }
    return sealed;
  }

  /** The cookies that store `session`, or `undefined` when it is too large even without the ID token. */
  async write(session: StoredSession): Promise<SetCookie[] | undefined> {
    const sealed = this.sealer.seal('session', session, this.config.sessionMaxAgeSeconds);
    const chunks = sealed.match(new RegExp(`.{1,${CHUNK_LENGTH}}`, 'g')) ?? [];
    if (chunks.length > MAX_CHUNKS) return undefined;
    return [
      ...chunks.map((chunk, index) => this.cookie(index, chunk)),
      ...Array.from({ length: MAX_CHUNKS - chunks.length }, (_, offset) => this.cookie(chunks.length + offset, '')),
    ];
  }

  /** Whether the request carries any of this store's cookies. */
  isPresent(request: unknown): boolean {
    for (const name of readCookies(request).keys()) if (name.startsWith(this.prefix)) return true;
    return false;
  }

  /** Whether a `Set-Cookie` line is one of this store's cookies. */
  isSessionCookie(setCookie: string): boolean {
    return setCookie.startsWith(this.prefix);
  }

  clear(): SetCookie[] {
    return Array.from({ length: MAX_CHUNKS }, (_, index) => this.cookie(index, ''));
  }

  private cookie(index: number, value: string): SetCookie {
    return serializeCookie(`${this.prefix}${index}`, value, {
      maxAgeSeconds: value === '' ? 0 : this.config.sessionMaxAgeSeconds,
      secure: this.config.secureCookies,
    });
  }
}
