import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { JwtVerificationError } from '../errors/jwt-verification.error.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
import { RedisLink, type FleetMessage } from './redis-link.js';

/** A Cognito access token lives at most a day: what a revoked refresh token's sessions can still hold. */
const MAX_ACCESS_TOKEN_SECONDS = 24 * 3600;
const PRUNE_INTERVAL_MS = 60_000;
const PENDING_RETRY_MS = 1000;
/**
 * Cognito's `iat` can run about a second ahead of the moment it answered: a token issued just
 * before `revokeUser()` may carry the next second. So its not-before covers one more second.
 */
const ISSUED_AT_SLACK_SECONDS = 1;

/**
 * What has been signed out, and until when: a replica in every instance, so a guarded request
 * checks it without a network call. Three kinds of entries:
 *
 * - a token family (`f:`): Cognito's `origin_jti`, shared by every token refreshed from one
 *   sign-in when the app client has token revocation on, else a token's own `jti`;
 * - a refresh token (`r:`, by its SHA-256, never the token): the sessions that hold it;
 * - a user (`u:<sub>:<ms>`): every token of that user issued until then (`iat`, with a second of
 *   slack: Cognito's times are whole seconds, and its `iat` can run a second ahead). Not `auth_time`: a sign-in through
 *   the Hosted UI's own session keeps the old one, and would be refused until that session ends.
 *   A session's refresh cannot escape it: a session is checked before it is refreshed.
 *
 * With Redis, entries are kept in the sorted set `<keyPrefix>revocations` (scored by when they
 * may be forgotten) and announced on the module's channel; every instance applies what it hears
 * and reloads the whole set after any reconnection, so one that missed messages catches up. An
 * entry recorded while Redis is away applies here at once and is written when it is back.
 * Without Redis the list is this instance's alone.
 *
 * @internal
 */
@Injectable()
export class RevocationList implements OnModuleDestroy {
  private readonly logger = new Logger('CognitoModule');
  private readonly families = new Map<string, number>();
  private readonly refreshTokens = new Map<string, number>();
  /** sub → the latest not-before time (ms) and until when it matters. */
  private readonly users = new Map<string, { notBefore: number; until: number }>();
  /** Entries recorded while Redis was away: written on the next resync. */
  private readonly pending = new Map<string, number>();
  private readonly refreshTokenHashes = new WeakMap<object, string>();
  private readonly key: string;
  private readonly pruner: NodeJS.Timeout;
  private pendingRetry: NodeJS.Timeout | undefined;
  private readonly revokedListeners: (() => void)[] = [];
  /** No entry is kept longer than this, whoever sent it. */
  private readonly longestMs: number;

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly link: RedisLink,
  ) {
    this.key = `${link.keyPrefix}revocations`;
    this.longestMs = (Math.max(config.sessionMaxAgeSeconds, MAX_ACCESS_TOKEN_SECONDS) + config.clockToleranceSeconds + 60) * 1000;
    link.onMessage$((message: FleetMessage) => {
      if (message.type === 'revoked' && typeof message.member === 'string' && typeof message.until === 'number') this.apply(message.member, message.until);
    });
    link.onResync(async () => {
      await this.reload();
      for (const listener of this.revokedListeners) listener();
    });
    this.pruner = setInterval(() => this.prune(Date.now()), PRUNE_INTERVAL_MS).unref();
  }

  /** Called when this instance records a revocation (the channel tells about the others'). */
  onRevoked(listener: () => void): void {
    this.revokedListeners.push(listener);
  }

  onModuleDestroy(): void {
    clearInterval(this.pruner);
    clearTimeout(this.pendingRetry);
    if (this.pending.size > 0) this.logger.warn(`${this.pending.size} revocation(s) recorded while Redis was away were never written to it; other instances did not learn them`);
  }

  /**
   * Throws `JwtVerificationError` (`ERR_JWT_REVOKED`) for a revoked token, and
   * `RedisUnavailableError` when the list may have missed revocations for longer than
   * `redisStaleSeconds`. Called on every verification, so it does no more than two map lookups.
   */
  check(claims: Readonly<Record<string, unknown>>): void {
    if (this.link.isStale()) {
      throw new RedisUnavailableError('the revocation list has been out of touch for too long');
    }
    // The time is read only on a hit: most tokens are in none of the maps.
    const family = typeof claims.origin_jti === 'string' ? claims.origin_jti : claims.jti;
    if (typeof family === 'string' && this.families.size > 0) {
      const until = this.families.get(family);
      if (until !== undefined && until > Date.now()) throw revoked();
      if (typeof claims.jti === 'string' && claims.jti !== family) {
        const ownUntil = this.families.get(claims.jti);
        if (ownUntil !== undefined && ownUntil > Date.now()) throw revoked();
      }
    }
    const user = typeof claims.sub === 'string' && this.users.size > 0 ? this.users.get(claims.sub) : undefined;
    if (user !== undefined && user.until > Date.now()) {
      if (typeof claims.iat !== 'number' || claims.iat <= Math.floor(user.notBefore / 1000) + ISSUED_AT_SLACK_SECONDS) throw revoked();
    }
  }

  /** Whether this refresh token was revoked (`revoke()`): its sessions end. */
  isRefreshTokenRevoked(refreshToken: string | undefined, holder: object): boolean {
    if (refreshToken === undefined || this.refreshTokens.size === 0) return false;
    let hash = this.refreshTokenHashes.get(holder);
    if (hash === undefined) this.refreshTokenHashes.set(holder, (hash = sha256(refreshToken)));
    const until = this.refreshTokens.get(hash);
    return until !== undefined && until > Date.now();
  }

  /**
   * Revokes the families of these tokens (their `origin_jti`, else their `jti`) for as long as a
   * token of the family can live: past the latest of their expiries by one token lifetime (a
   * refresh running elsewhere at this moment yields a token that expires later), or for
   * `seconds` when that is longer (a family whose refresh token Cognito did not revoke can still
   * produce new tokens).
   */
  async revokeTokens(payloads: readonly Readonly<Record<string, unknown>>[], seconds = 0): Promise<void> {
    const now = Date.now();
    const tolerance = this.config.clockToleranceSeconds * 1000;
    let until = now + seconds * 1000;
    for (const { exp, iat } of payloads) {
      if (typeof exp !== 'number') continue;
      const lifetime = typeof iat === 'number' && exp > iat ? Math.min(exp - iat, MAX_ACCESS_TOKEN_SECONDS) : MAX_ACCESS_TOKEN_SECONDS;
      until = Math.max(until, Math.max(exp * 1000, now + lifetime * 1000) + tolerance);
    }
    const ids = new Set<string>();
    for (const payload of payloads) {
      for (const claim of ['origin_jti', 'jti'] as const) if (typeof payload[claim] === 'string' && payload[claim] !== '') ids.add(payload[claim] as string);
    }
    if (until <= now) return;
    // A logout does not wait for Redis: applied here now, shared in the background.
    await this.record([...ids].map((id) => `f:${id}`), until, false);
  }

  /** Revokes a refresh token's sessions, for as long as they can hold an access token it gave. */
  revokeRefreshToken(refreshToken: string): Promise<void> {
    return this.record([`r:${sha256(refreshToken)}`], Date.now() + (MAX_ACCESS_TOKEN_SECONDS + this.config.clockToleranceSeconds) * 1000, false);
  }

  /** Refuses every token of `sub` issued until now. */
  async revokeUser(sub: string): Promise<void> {
    const now = Date.now();
    const earlier = this.users.get(sub);
    // As long as a session can live, and at least as long as an access token.
    const seconds = Math.max(this.config.sessionMaxAgeSeconds, MAX_ACCESS_TOKEN_SECONDS) + this.config.clockToleranceSeconds;
    await this.record([`u:${sub}:${now}`], now + seconds * 1000);
    // The newer entry covers the older one: one entry per user, however often it is called.
    if (earlier !== undefined && this.link.enabled) {
      const older = `u:${sub}:${earlier.notBefore}`;
      this.pending.delete(older);
      await this.link.run('revoke', (client) => client.zrem(this.key, older)).catch(() => undefined);
    }
  }

  /**
   * Applies the entries here at once, then shares them (or keeps them for when Redis is back);
   * waits for the sharing only when `wait` (never longer than one command's timeout).
   */
  private async record(members: string[], until: number, wait = true): Promise<void> {
    for (const member of members) this.apply(member, until);
    if (members.length === 0) return;
    for (const listener of this.revokedListeners) listener();
    if (!this.link.enabled) return;
    const sharing = this.shareOrKeep(members, until);
    if (wait) await sharing;
  }

  private async shareOrKeep(members: string[], until: number): Promise<void> {
    try {
      await this.share(members, until);
    } catch (error) {
      for (const member of members) this.pending.set(member, until);
      this.retryPendingSoon();
      this.logger.warn(`A revocation could not be written to Redis (${error instanceof RedisUnavailableError ? error.message : 'error'}); it applies on this instance now and is shared when Redis is back`);
    }
  }

  private async share(members: string[], until: number): Promise<void> {
    await this.link.run('revoke', (client) => client.zadd(this.key, ...members.flatMap((member) => [until, member])));
    for (const member of members) await this.link.publish({ type: 'revoked', member, until });
  }

  /** Writes what was recorded while Redis was away; throws when it still cannot. */
  private async flushPending(): Promise<void> {
    for (const [member, until] of [...this.pending]) {
      if (!(until > Date.now())) {
        this.pending.delete(member);
        continue;
      }
      await this.share([member], until);
      this.pending.delete(member);
    }
  }

  /** A write can fail while both connections stay up (memory full, a failover): try again on a timer, not only on a reconnection. */
  private retryPendingSoon(): void {
    if (this.pendingRetry !== undefined) return;
    this.pendingRetry = setTimeout(() => {
      this.pendingRetry = undefined;
      if (this.pending.size === 0) return;
      this.flushPending().catch(() => this.retryPendingSoon());
    }, PENDING_RETRY_MS).unref();
  }

  /** After a (re)connection: write what was recorded meanwhile, then load everything the fleet revoked. */
  private async reload(): Promise<void> {
    await this.flushPending();
    const now = Date.now();
    const entries = await this.link.run('load revocations', async (client) => {
      await client.zremrangebyscore(this.key, '-inf', now);
      return client.zrange(this.key, 0, -1, 'WITHSCORES');
    });
    for (let index = 0; index + 1 < entries.length; index += 2) this.apply(entries[index], Number(entries[index + 1]));
  }

  private apply(member: string, until: number): void {
    const now = Date.now();
    if (!(until > now)) return;
    // Whatever a message or the set says, nothing is kept past the longest lifetime it can need.
    until = Math.min(until, now + this.longestMs);
    const kind = member.slice(0, 2);
    const rest = member.slice(2);
    if (kind === 'f:') this.families.set(rest, Math.max(until, this.families.get(rest) ?? 0));
    else if (kind === 'r:') this.refreshTokens.set(rest, Math.max(until, this.refreshTokens.get(rest) ?? 0));
    else if (kind === 'u:') {
      const split = rest.lastIndexOf(':');
      const sub = rest.slice(0, split);
      const notBefore = Number(rest.slice(split + 1));
      if (split <= 0 || !Number.isFinite(notBefore)) return;
      const known = this.users.get(sub);
      if (known === undefined || known.notBefore < notBefore) this.users.set(sub, { notBefore, until: Math.max(until, known?.until ?? 0) });
    }
  }

  private prune(now: number): void {
    for (const map of [this.families, this.refreshTokens]) for (const [id, until] of map) if (until <= now) map.delete(id);
    for (const [sub, entry] of this.users) if (entry.until <= now) this.users.delete(sub);
  }
}

function revoked(): JwtVerificationError {
  return new JwtVerificationError('ERR_JWT_REVOKED', 'The token has been revoked (signed out)');
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
