import { CognitoError } from './cognito.error.js';

/**
 * Redis (`redisUrl` / `redis`) cannot serve what the request needs: the revocation list has been
 * out of touch with it for longer than `redisStaleSeconds`, or a server-side session
 * (`sessionStore: 'redis'`) cannot be read or written. Guards answer 503 with `Retry-After`,
 * never 401: the credentials may well be valid.
 *
 * @publicApi
 */
export class RedisUnavailableError extends CognitoError {
  readonly code = 'ERR_REDIS_UNAVAILABLE' as const;
  readonly reason = 'redis_unavailable';

  constructor(detail: string, options?: { cause?: unknown }) {
    super(`Redis cannot be reached: ${detail}`, options);
  }
}
