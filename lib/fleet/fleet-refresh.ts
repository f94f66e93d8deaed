import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
import { CookieSealer } from '../http/cookie-sealer.js';
import type { StoredSession } from '../session/session-store.js';
import { RedisLink } from './redis-link.js';

/** How long a finished refresh is kept for the fleet's requests that still carry the old cookies. */
const RESULT_SECONDS = 30;
/** How often a waiting instance looks for the result, besides being told on the channel. */
const POLL_MS = 100;
/** Deletes the lock only if it is still ours (it may have expired and been taken by another instance). */
const UNLOCK_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * One refresh per session across the fleet. The instance that takes the lock for a refresh
 * token (`SET NX`, keyed by the token's SHA-256, never the token) calls Cognito and leaves the
 * result in Redis, sealed with the cookie secret, for `RESULT_SECONDS`; the others wait for it
 * (told on the channel, or finding it on their next look) instead of spending the refresh token
 * again, which matters when Cognito rotates refresh tokens. In front of this, each instance
 * already runs one refresh per refresh token (`RefreshCoordinator`).
 *
 * Without Redis, or when it fails, the refresh simply runs here.
 *
 * @internal
 */
@Injectable()
export class FleetRefresh {
  private readonly logger = new Logger('CognitoModule');
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly link: RedisLink,
    private readonly sealer: CookieSealer,
  ) {
    link.onMessage$((message) => {
      if (message.type !== 'refreshed') return;
      for (const wake of this.waiters.get(message.key) ?? []) wake();
    });
  }

  async run(refreshToken: string, refresh: () => Promise<StoredSession>): Promise<StoredSession> {
    if (!this.link.enabled) return refresh();
    const key = createHash('sha256').update(refreshToken).digest('base64url');
    const resultKey = `${this.link.keyPrefix}refreshed:${key}`;
    const lockKey = `${this.link.keyPrefix}refresh-lock:${key}`;
    // Long enough for a token request and its one retry; a lock whose holder died expires.
    const lockMs = this.config.httpTimeoutMs * 2 + 1000;
    const deadline = Date.now() + lockMs + 1000;
    const holder = randomUUID();
    try {
      for (;;) {
        const done = await this.result(resultKey, key);
        if (done !== undefined) return done;
        const locked = await this.link.run('refresh lock', (client) => client.set(lockKey, holder, 'PX', lockMs, 'NX'));
        if (locked === 'OK') {
          // Another instance may have finished between the look and the lock.
          const finished = await this.result(resultKey, key);
          if (finished !== undefined) {
            await this.unlock(lockKey, holder);
            return finished;
          }
          return await this.refreshAndShare(refresh, key, resultKey, lockKey, holder);
        }
        if (Date.now() > deadline) break; // the holder is gone without a result: refresh here
        await this.waitFor(key);
      }
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.logger.warn(`Refreshing without the fleet lock (${error.message})`);
    }
    return refresh();
  }

  private async refreshAndShare(refresh: () => Promise<StoredSession>, key: string, resultKey: string, lockKey: string, holder: string): Promise<StoredSession> {
    let renewed: StoredSession;
    try {
      renewed = await refresh();
    } catch (error) {
      // Cognito said no (or cannot be reached): the next one to try takes the lock.
      await this.unlock(lockKey, holder).catch(() => undefined);
      throw error;
    }
    try {
      // Sealed for this purpose and bound to this refresh token's key: read out of Redis, it
      // opens as no cookie, and under no other key.
      const sealed = this.sealer.seal('fleet-refresh', { k: key, at: renewed.at, rt: renewed.rt, it: renewed.it }, RESULT_SECONDS);
      await this.link.run('refresh result', (client) => client.set(resultKey, sealed, 'EX', RESULT_SECONDS));
      await this.link.publish({ type: 'refreshed', key });
      await this.unlock(lockKey, holder);
    } catch {
      // The others find no result and refresh after the lock expires; this request is served.
    }
    return renewed;
  }

  private unlock(lockKey: string, holder: string): Promise<unknown> {
    return this.link.run('refresh unlock', (client) => client.eval(UNLOCK_SCRIPT, 1, lockKey, holder));
  }

  private async result(resultKey: string, key: string): Promise<StoredSession | undefined> {
    const sealed = await this.link.run('refresh result', (client) => client.get(resultKey));
    if (sealed === null) return undefined;
    const opened = this.sealer.open('fleet-refresh', sealed);
    if (typeof opened !== 'object' || opened === null) return undefined;
    const { k, at, rt, it } = opened as Record<string, unknown>;
    if (k !== key || typeof at !== 'string' || (rt !== undefined && typeof rt !== 'string') || (it !== undefined && typeof it !== 'string')) return undefined;
    return { at, rt, it };
  }

  /** Until the channel says this refresh is done, or `POLL_MS`, whichever comes first. */
  private waitFor(key: string): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.waiters.get(key);
      if (waiters === undefined) this.waiters.set(key, (waiters = new Set()));
      const wake = () => {
        clearTimeout(timer);
        waiters!.delete(wake);
        if (waiters!.size === 0 && this.waiters.get(key) === waiters) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, POLL_MS);
      waiters.add(wake);
    });
  }
}
