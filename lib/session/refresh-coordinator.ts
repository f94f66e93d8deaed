import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';

/** How long a finished refresh is remembered for requests that still carry the old cookies. */
const REMEMBER_MS = 30_000;
const MAX_ENTRIES = 10_000;

/**
 * One refresh per refresh token at a time in this process: concurrent requests from one
 * browser join the refresh in flight, and requests that arrive shortly after it (still
 * carrying the old cookies) reuse its result instead of spending the refresh token again,
 * which matters when Cognito rotates refresh tokens.
 *
 * @internal
 */
@Injectable()
export class RefreshCoordinator {
  private readonly entries = new Map<string, { result: Promise<unknown>; expiresAt: number }>();

  run<T>(refreshToken: string, refresh: () => Promise<T>): Promise<T> {
    const key = createHash('sha256').update(refreshToken).digest('base64url');
    const now = Date.now();
    const existing = this.entries.get(key);
    if (existing !== undefined && existing.expiresAt > now) return existing.result as Promise<T>;

    this.prune(now);
    const result = refresh();
    const entry = { result, expiresAt: Number.POSITIVE_INFINITY };
    this.entries.set(key, entry);
    result.then(
      () => (entry.expiresAt = Date.now() + REMEMBER_MS),
      () => this.entries.get(key) === entry && this.entries.delete(key),
    );
    return result;
  }

  private prune(now: number): void {
    if (this.entries.size < MAX_ENTRIES) return;
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    // Still full of refreshes in flight: forget the oldest rather than grow without bound.
    while (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}
