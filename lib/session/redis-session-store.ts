import { createHash, randomBytes } from 'node:crypto';
import type { CognitoConfig } from '../config/cognito-config.js';
import type { CookieSealer } from '../http/cookie-sealer.js';
import { cookiePrefix, readCookies, serializeCookie, type SetCookie } from '../http/cookies.util.js';
import type { RedisLink } from '../fleet/redis-link.js';
import { unverifiedPayload } from '../tokens/jwt.util.js';
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
  /** Entries a logout could not delete while Redis was away: deleted when it is back. */
  private readonly doomed = new Map<string, string>();
  private retry: NodeJS.Timeout | undefined;
  private lateLogout: ((session: StoredSession) => Promise<void>) | undefined;

  constructor(config: CognitoConfig, sealer: CookieSealer, private readonly link: RedisLink) {
    super(config, sealer);
    this.cookieName = `${cookiePrefix(config)}${config.cookieNamePrefix}-sid`;
    link.onResync(() => this.deleteDoomed());
  }

  override async read(request: unknown): Promise<StoredSession | 'invalid' | undefined> {
    const cookies = readCookies(request);
    const sid = cookies.get(this.cookieName);
    // Cookies of the other store (the app switched to Redis) count as foreign: cleared (see clear()).
    if (sid === undefined) return super.isPresent(request) ? 'invalid' : undefined;
    if (!SESSION_ID.test(sid)) return 'invalid';
    const sealed = await this.link.run('read session', (client) => client.get(this.entryKey(sid)));
    if (sealed === null) return 'invalid'; // signed out, everywhere
    const known = this.known([sealed]);
    if (known !== undefined && known.sid === sid) return known;
    const opened = this.sealer.openWithExpiry('redis-session', sealed);
    if (typeof opened !== 'object') return 'invalid';
    const { k, at, rt, it } = (opened.data ?? {}) as Record<string, unknown>;
    // Bound to its key: an entry copied under another session's key does not open.
    if (k !== this.entryKey(sid)) return 'invalid';
    if (typeof at !== 'string' || (rt !== undefined && typeof rt !== 'string') || (it !== undefined && typeof it !== 'string')) return 'invalid';
    const session: StoredSession = { at, rt, it, sid };
    this.opened.set(sealed, 'session', { chunks: [sealed], session }, opened.expiresAt * 1000);
    return session;
  }

  /** Never known without asking Redis: the entry may have been deleted on another instance. */
  override readKnown(): StoredSession | undefined {
    return undefined;
  }

  /**
   * Writes the entry and returns its cookie: a new id for a new session; for a refreshed one the
   * same id, and only if the entry still exists (a logout or `revokeUser()` elsewhere deleted it:
   * then no cookie, and the next request finds the session gone).
   */
  override async write(session: StoredSession): Promise<SetCookie[] | undefined> {
    const sid = session.sid ?? randomBytes(32).toString('base64url');
    const maxAge = this.config.sessionMaxAgeSeconds;
    const entry = this.entryKey(sid);
    // Sealed for Redis alone (it opens as no cookie), and bound to its key.
    const sealed = this.sealer.seal('redis-session', { k: entry, at: session.at, rt: session.rt, it: session.it }, maxAge);
    const sub = subjectOf(session.at);
    const written = await this.link.run('write session', async (client) => {
      const done = session.sid === undefined ? await client.set(entry, sealed, 'EX', maxAge) : await client.set(entry, sealed, 'EX', maxAge, 'XX');
      if (done === 'OK' && sub !== undefined) {
        await client.sadd(this.userKey(sub), entry);
        await client.expire(this.userKey(sub), maxAge);
      }
      return done === 'OK';
    });
    return written ? [serializeCookie(this.cookieName, sid, { maxAgeSeconds: maxAge, secure: this.config.secureCookies })] : [];
  }

  override isPresent(request: unknown): boolean {
    return readCookies(request).has(this.cookieName) || super.isPresent(request);
  }

  override isSessionCookie(setCookie: string): boolean {
    return setCookie.startsWith(`${this.cookieName}=`);
  }

  /** The id cookie, and the cookie store's cookies too (left from before the app used Redis). */
  override clear(): SetCookie[] {
    return [serializeCookie(this.cookieName, '', { maxAgeSeconds: 0, secure: this.config.secureCookies }), ...super.clear()];
  }

  /** A logout that could not read the session (Redis away): its entry is deleted when Redis is back. */
  override destroyWhenPossible(request: unknown): void {
    const sid = readCookies(request).get(this.cookieName);
    if (sid === undefined || !SESSION_ID.test(sid)) return;
    this.doomed.set(sid, this.entryKey(sid));
    this.retrySoon();
  }

  override onLateLogout(revoke: (session: StoredSession) => Promise<void>): void {
    this.lateLogout = revoke;
  }

  /** The deferred logouts: each session is revoked as a logout would have (its tokens, at Cognito), then deleted. */
  private async deleteDoomed(): Promise<void> {
    for (const [sid, entry] of [...this.doomed]) {
      const session = await this.read({ headers: { cookie: `${this.cookieName}=${sid}` } });
      if (typeof session === 'object') await this.lateLogout?.(session);
      await this.link.run('delete session', (client) => client.del(entry));
      this.doomed.delete(sid);
    }
  }

  private retrySoon(): void {
    if (this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.deleteDoomed().catch(() => this.retrySoon());
    }, 1000).unref();
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
  const sub = unverifiedPayload(token)?.sub;
  return typeof sub === 'string' && sub.length > 0 ? sub : undefined;
}
