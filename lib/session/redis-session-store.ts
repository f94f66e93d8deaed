import { createHash, randomBytes } from 'node:crypto';
import type { CognitoConfig } from '../config/cognito-config.js';
import type { CookieSealer } from '../http/cookie-sealer.js';
import { cookiePrefix, readCookies, serializeCookie, type SetCookie } from '../http/cookies.util.js';
import type { RedisLink } from '../fleet/redis-link.js';
import { SessionStore, type StoredSession } from './session-store.js';

/** 32 random bytes, base64url. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * `sessionStore: 'redis'`: the tokens live in Redis, sealed with the cookie secret as the cookies
 * would hold them, under the SHA-256 of a random session id; the browser holds the id alone, in
 * one small cookie (`<prefix>-sid`). Redis thus never holds a value that opens a session, and a
 * copied cookie dies with the entry (logout, `revokeUser()`). Each user's entries are indexed,
 * so `revokeUser()` can delete them all.
 *
 * Every request reads its entry from Redis (one GET); opening it is cached as with cookies.
 * When Redis cannot be reached, reading and writing throw `RedisUnavailableError` (503).
 *
 * @internal
 */
export class RedisSessionStore extends SessionStore {
  private readonly cookieName: string;

  constructor(config: CognitoConfig, sealer: CookieSealer, private readonly link: RedisLink) {
    super(config, sealer);
    this.cookieName = `${cookiePrefix(config)}${config.cookieNamePrefix}-sid`;
  }

  override async read(request: unknown): Promise<StoredSession | 'invalid' | undefined> {
    const cookies = readCookies(request);
    const sid = cookies.get(this.cookieName);
    // Cookies of the other store (the app switched to Redis) are cleared like foreign ones.
    if (sid === undefined) return super.isPresent(request) ? 'invalid' : undefined;
    if (!SESSION_ID.test(sid)) return 'invalid';
    const sealed = await this.link.run('read session', (client) => client.get(this.entryKey(sid)));
    if (sealed === null) return 'invalid'; // signed out, everywhere
    const known = this.known([sealed]);
    if (known !== undefined && known.sid === sid) return known;
    const opened = this.sealer.openWithExpiry('session', sealed);
    if (typeof opened !== 'object') return 'invalid';
    const { at, rt, it } = (opened.data ?? {}) as Record<string, unknown>;
    if (typeof at !== 'string' || (rt !== undefined && typeof rt !== 'string') || (it !== undefined && typeof it !== 'string')) return 'invalid';
    const session: StoredSession = { at, rt, it, sid };
    this.opened.set(sealed, 'session', { chunks: [sealed], session }, opened.expiresAt * 1000);
    return session;
  }

  /** Never known without asking Redis: the entry may have been deleted on another instance. */
  override readKnown(): StoredSession | undefined {
    return undefined;
  }

  /** Writes the entry (a new id for a new session, the same id when it is refreshed) and returns its cookie. */
  override async write(session: StoredSession): Promise<SetCookie[] | undefined> {
    const sid = session.sid ?? randomBytes(32).toString('base64url');
    const maxAge = this.config.sessionMaxAgeSeconds;
    const sealed = this.sealer.seal('session', { at: session.at, rt: session.rt, it: session.it }, maxAge);
    const entry = this.entryKey(sid);
    const sub = subjectOf(session.at);
    await this.link.run('write session', async (client) => {
      await client.set(entry, sealed, 'EX', maxAge);
      if (sub !== undefined) {
        await client.sadd(this.userKey(sub), entry);
        await client.expire(this.userKey(sub), maxAge);
      }
    });
    return [serializeCookie(this.cookieName, sid, { maxAgeSeconds: maxAge, secure: this.config.secureCookies })];
  }

  override isPresent(request: unknown): boolean {
    return readCookies(request).has(this.cookieName) || super.isPresent(request);
  }

  override isSessionCookie(setCookie: string): boolean {
    return setCookie.startsWith(`${this.cookieName}=`);
  }

  override clear(): SetCookie[] {
    return [serializeCookie(this.cookieName, '', { maxAgeSeconds: 0, secure: this.config.secureCookies })];
  }

  override async destroy(session: StoredSession): Promise<void> {
    if (session.sid === undefined) return;
    const entry = this.entryKey(session.sid);
    const sub = subjectOf(session.at);
    await this.link.run('delete session', async (client) => {
      await client.del(entry);
      if (sub !== undefined) await client.srem(this.userKey(sub), entry);
    });
  }

  override async destroyUser(sub: string): Promise<void> {
    await this.link.run('delete sessions', async (client) => {
      // One key per DEL: with Redis Cluster, keys of one command must share a slot.
      for (const entry of await client.smembers(this.userKey(sub))) await client.del(entry);
      await client.del(this.userKey(sub));
    });
  }

  private entryKey(sid: string): string {
    return `${this.link.keyPrefix}session:${createHash('sha256').update(sid).digest('base64url')}`;
  }

  private userKey(sub: string): string {
    return `${this.link.keyPrefix}user-sessions:${sub}`;
  }
}

/** The `sub` of a token from Cognito (already verified, or about to be): only to index the entry. */
function subjectOf(token: string): string | undefined {
  try {
    const sub = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).sub;
    return typeof sub === 'string' && sub.length > 0 ? sub : undefined;
  } catch {
    return undefined;
  }
}
