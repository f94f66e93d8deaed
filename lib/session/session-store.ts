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
  /** The session id, with `sessionStore: 'redis'` only (never sealed with the tokens). */
  sid?: string;
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
   * Sessions already opened, with the exact chunks they came in: every request of a session
   * brings the same cookies, so only its first pays for decrypting them. Cookies that differ in
   * any character (a tampered chunk, chunks of two sessions, a seal of another secret) miss,
   * and are opened, or refused, in full.
   */
  protected readonly opened: VerifiedTokenCache<'session', { chunks: readonly string[]; session: StoredSession }>;
  /** `<prefix>0`, `<prefix>1`, …: built once, not on every request. */
  private readonly names: readonly string[];

  constructor(
    @Inject(COGNITO_CONFIG) protected readonly config: CognitoConfig,
    protected readonly sealer: CookieSealer,
  ) {
    this.prefix = `${cookiePrefix(config)}${config.cookieNamePrefix}-session.`;
    this.opened = new VerifiedTokenCache(config.sessionCacheSize);
    this.names = Array.from({ length: MAX_CHUNKS }, (_, index) => `${this.prefix}${index}`);
  }

  /** The stored session; `undefined` without session cookies; `'invalid'` when they are altered, foreign, truncated or expired. */
  async read(request: unknown): Promise<StoredSession | 'invalid' | undefined> {
    const cookies = readCookies(request);
    const present: string[] = [];
    for (const name of this.names) {
      const chunk = cookies.get(name);
      if (chunk === undefined) break; // a missing chunk ends them
      present.push(chunk);
    }
    if (present.length === 0) return [...cookies.keys()].some((name) => name.startsWith(this.prefix)) ? 'invalid' : undefined;
    const known = this.known(present);
    if (known !== undefined) return known;
    const opened = this.sealer.openWithExpiry('session', present.join(''));
    if (typeof opened !== 'object') return 'invalid';
    const { at, rt, it } = (opened.data ?? {}) as Record<string, unknown>;
    if (typeof at !== 'string' || (rt !== undefined && typeof rt !== 'string') || (it !== undefined && typeof it !== 'string')) return 'invalid';
    const session: StoredSession = { at, rt, it };
    this.opened.set(present[present.length - 1], 'session', { chunks: present, session }, opened.expiresAt * 1000);
    return session;
  }

  /**
   * The stored session if its cookies were opened before (a cache hit), else `undefined`: never
   * decrypts. The guard asks on every request of a browser session, so this reads the Cookie
   * header in one pass and only in the form browsers send (`name=value; name=value`, this
   * store's cookies in order, each once); anything else is left to `read`, which parses it all.
   */
  readKnown(request: unknown): StoredSession | undefined {
    const header = (request as { headers?: Record<string, unknown> } | undefined)?.headers?.cookie;
    if (typeof header !== 'string') return undefined;
    const chunks: string[] = [];
    let from = 0;
    for (let at = header.indexOf(this.prefix); at !== -1; at = header.indexOf(this.prefix, from)) {
      // The name must start a pair: at the start of the header, or after "; ".
      if (at !== 0 && !(header.charCodeAt(at - 1) === SPACE && header.charCodeAt(at - 2) === SEMICOLON)) return undefined;
      const digit = at + this.prefix.length;
      // The next chunk, `<prefix><n>=`, and no other: a duplicate or a gap is read() 's to judge.
      if (header.charCodeAt(digit) !== DIGIT_ZERO + chunks.length || header.charCodeAt(digit + 1) !== EQUALS || chunks.length === MAX_CHUNKS) return undefined;
      const end = header.indexOf(';', digit + 2);
      chunks.push(header.slice(digit + 2, end === -1 ? header.length : end));
      if (end === -1) break;
      from = end;
    }
    return chunks.length === 0 ? undefined : this.known(chunks);
  }

  /**
   * A session opened before from exactly these chunks. The cache is keyed by the last chunk,
   * which ends with the seal's GCM tag; every other chunk must match too, so a tampered chunk or
   * chunks of two sessions miss (and are then opened, and refused, in full).
   */
  protected known(chunks: readonly string[]): StoredSession | undefined {
    const entry = this.opened.get(chunks[chunks.length - 1], Date.now())?.payload;
    if (entry === undefined || entry.chunks.length !== chunks.length) return undefined;
    for (let index = 0; index < chunks.length - 1; index++) if (entry.chunks[index] !== chunks[index]) return undefined;
    return entry.session;
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

  /** Deletes what the server keeps of this session: nothing, with cookie sessions. */
  async destroy(_session: StoredSession): Promise<void> {}

  /** A logout that could not read the session: what the server keeps of it goes later (nothing, with cookie sessions). */
  destroyWhenPossible(_request: unknown): void {}

  /** Who revokes a session whose logout `destroyWhenPossible` deferred (never called with cookie sessions). */
  onLateLogout(_revoke: (session: StoredSession) => Promise<void>): void {}

  /** Deletes what the server keeps of every session of `sub`: nothing, with cookie sessions. */
  async destroyUser(_sub: string): Promise<void> {}

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

const SPACE = 0x20;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DIGIT_ZERO = 0x30;
