import type { Logger } from '@nestjs/common';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { JwksNoMatchingKeyError, JwksUnavailableError } from '../errors/jwks.error.js';
import type { CognitoHttpClient } from '../http/cognito-http.client.js';
import { UpstreamFailure } from '../http/cognito-http.client.js';

const MAX_KEYS = 32;
/** `kid`s are checked before any lookup: Cognito's are short base64 strings. */
const KID = /^[\w\-+/=.:]{1,256}$/;
/** After a failed fetch, callers get the failure for this long instead of a new request each. */
const FAILURE_BACKOFF_MS = 1000;
/** A refresh starts in the background once this share of the cache lifetime has passed. */
const EARLY_REFRESH = 0.8;

/** @internal */
export interface KeySetSettings {
  jwksUri: string;
  cacheSeconds: number;
  cooldownSeconds: number;
  staleSeconds: number;
}

/**
 * One user pool's signing keys, imported once. Kept for `cacheSeconds` and refreshed in the
 * background before that; an unknown `kid` refetches at most once per cooldown; concurrent
 * callers share one fetch; while the endpoint is down, the last keys serve for `staleSeconds`.
 *
 * @internal
 */
export class JwksKeySet {
  private keys = new Map<string, { key: KeyObject; fingerprint: string }>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastFailure: JwksUnavailableError | undefined;
  private inflight: Promise<void> | undefined;
  private warnedStale = false;

  constructor(
    private readonly settings: KeySetSettings,
    private readonly http: CognitoHttpClient,
    private readonly logger: Logger,
    /** Called when a refetch removed or replaced keys, so verified results can be forgotten. */
    private readonly onKeysChanged: () => void,
  ) {}

  /** Loads the keys ahead of the first request; a failure is logged, never thrown. */
  async prefetch(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      this.logger.warn(`Could not prefetch the user pool's keys from ${this.settings.jwksUri}: ${(error as Error).message}; will retry on the first token`);
    }
  }

  /**
   * Whether verified tokens of this pool may still be trusted without looking at the keys:
   * `expired` once the cache lifetime has passed (the keys must be refetched first, in case
   * one was removed); `fresh` otherwise, starting a background refresh near the end.
   */
  freshness(now: number): 'fresh' | 'expired' {
    const age = now - this.fetchedAt;
    const lifetime = this.settings.cacheSeconds * 1000;
    if (age >= lifetime) return 'expired';
    if (age >= lifetime * EARLY_REFRESH) this.refresh().catch(() => undefined);
    return 'fresh';
  }

  /** The key when it is at hand and fresh: the hot path, without a promise. */
  peek(kid: string, now: number): KeyObject | undefined {
    if (now - this.fetchedAt >= this.settings.cacheSeconds * 1000 * EARLY_REFRESH) return undefined;
    return this.keys.get(kid)?.key;
  }

  async getKey(kid: string): Promise<KeyObject> {
    if (!KID.test(kid)) throw new JwksNoMatchingKeyError();
    const now = Date.now();
    const age = now - this.fetchedAt;
    const lifetime = this.settings.cacheSeconds * 1000;

    if (age >= lifetime) {
      await this.refreshOrServeStale(age);
    } else if (age >= lifetime * EARLY_REFRESH) {
      this.refresh().catch(() => undefined); // in the background: current keys keep serving
    }

    let entry = this.keys.get(kid);
    // An unknown kid refetches once per cooldown; misses while that fetch runs wait for it
    // rather than fail (a rotation seen by many requests at once).
    if (entry === undefined && (this.inflight !== undefined || now - this.lastAttemptAt >= this.settings.cooldownSeconds * 1000)) {
      await this.refresh();
      entry = this.keys.get(kid);
    }
    if (entry === undefined) throw new JwksNoMatchingKeyError();
    return entry.key;
  }

  private async refreshOrServeStale(age: number): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      const staleLimit = (this.settings.cacheSeconds + this.settings.staleSeconds) * 1000;
      if (this.keys.size === 0 || age >= staleLimit) throw error;
      if (!this.warnedStale) {
        this.warnedStale = true;
        this.logger.warn(`The user pool's JWKS is unreachable (${(error as Error).message}); serving cached keys for up to ${this.settings.staleSeconds} s`);
      }
    }
  }

  private refresh(): Promise<void> {
    if (this.lastFailure !== undefined && Date.now() - this.lastAttemptAt < FAILURE_BACKOFF_MS) return Promise.reject(this.lastFailure);
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = Date.now();
    try {
      const keys = await this.download();
      const changed = [...this.keys].some(([kid, entry]) => keys.get(kid)?.fingerprint !== entry.fingerprint);
      this.keys = keys;
      this.fetchedAt = Date.now();
      this.lastFailure = undefined;
      this.warnedStale = false;
      if (changed) this.onKeysChanged();
    } catch (error) {
      this.lastFailure = error instanceof JwksUnavailableError ? error : new JwksUnavailableError('the request failed');
      throw this.lastFailure;
    }
  }

  private async download(): Promise<Map<string, { key: KeyObject; fingerprint: string }>> {
    let response;
    try {
      response = await this.http.request('GET', this.settings.jwksUri, { headers: { accept: 'application/json' } });
    } catch (error) {
      throw new JwksUnavailableError(error instanceof UpstreamFailure ? error.message : 'the request failed');
    }
    if (response.status !== 200) throw new JwksUnavailableError(`HTTP ${response.status}`);
    if (!/^application\/([\w.+-]*\+)?json\b/i.test(response.contentType)) throw new JwksUnavailableError('the response is not JSON (content type)');
    let document: unknown;
    try {
      document = JSON.parse(response.body);
    } catch {
      throw new JwksUnavailableError('the response is not JSON');
    }
    const list = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new JwksUnavailableError('the response has no "keys" array');

    const keys = new Map<string, { key: KeyObject; fingerprint: string }>();
    for (const jwk of list.slice(0, MAX_KEYS)) {
      const imported = importSigningKey(jwk);
      if (imported !== undefined) keys.set(imported.kid, imported);
    }
    if (keys.size === 0) throw new JwksUnavailableError('it holds no usable RS256 signing key');
    if (list.length > MAX_KEYS) this.logger.warn(`The user pool's JWKS lists ${list.length} keys; only the first ${MAX_KEYS} are used`);
    return keys;
  }
}

/** Only RSA public keys (2048 bits or more) meant for signatures, and for RS256 when `alg` says so. */
function importSigningKey(jwk: unknown): { kid: string; key: KeyObject; fingerprint: string } | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const { kty, use, alg, kid, n, e, d } = jwk as Record<string, unknown>;
  if (kty !== 'RSA' || typeof kid !== 'string' || !KID.test(kid) || d !== undefined) return undefined;
  if (use !== undefined && use !== 'sig') return undefined;
  if (alg !== undefined && alg !== 'RS256') return undefined;
  if (typeof n !== 'string' || typeof e !== 'string') return undefined;
  try {
    const key = createPublicKey({ key: { kty, n, e } as JsonWebKey, format: 'jwk' });
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined;
    return { kid, key, fingerprint: `${n}.${e}` };
  } catch {
    return undefined;
  }
}
