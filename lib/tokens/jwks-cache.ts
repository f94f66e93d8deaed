import { Inject, Injectable, Logger } from '@nestjs/common';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { JwksNoMatchingKeyError, JwksUnavailableError } from '../errors/jwks.error.js';
import { CognitoHttpClient, UpstreamFailure } from '../http/cognito-http.client.js';

const MAX_KEYS = 32;
const KID = /^[\w\-+/=.:]{1,256}$/;

/**
 * The user pool's signing keys, imported once and kept for `jwksCacheTimeout` seconds.
 * An unknown `kid` refetches the set (AWS publishes no rotation schedule), but at most
 * once per cooldown; concurrent callers share one fetch.
 *
 * @internal
 */
@Injectable()
export class JwksCache {
  private readonly logger = new Logger('CognitoModule');
  private keys = new Map<string, KeyObject>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly http: CognitoHttpClient,
  ) {}

  async getKey(kid: string): Promise<KeyObject> {
    if (!KID.test(kid)) throw new JwksNoMatchingKeyError();
    const age = Date.now() - this.fetchedAt;
    if (age >= this.config.jwksCacheTimeoutSeconds * 1000) {
      await this.refresh();
    } else if (!this.keys.has(kid) && age >= this.config.jwksCooldownSeconds * 1000) {
      await this.refresh();
    }
    const key = this.keys.get(kid);
    if (key === undefined) throw new JwksNoMatchingKeyError();
    return key;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    let response;
    try {
      response = await this.http.request('GET', this.config.jwksUri, { headers: { accept: 'application/json' } });
    } catch (error) {
      throw new JwksUnavailableError(error instanceof UpstreamFailure ? error.message : 'the request failed');
    }
    if (response.status !== 200) throw new JwksUnavailableError(`HTTP ${response.status}`);
    let document: unknown;
    try {
      document = JSON.parse(response.body);
    } catch {
      throw new JwksUnavailableError('the response is not JSON');
    }
    const list = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new JwksUnavailableError('the response has no "keys" array');

    const keys = new Map<string, KeyObject>();
    for (const jwk of list.slice(0, MAX_KEYS)) {
      const key = importSigningKey(jwk);
      if (key !== undefined) keys.set(key.kid, key.keyObject);
    }
    if (keys.size === 0) throw new JwksUnavailableError('it holds no usable RS256 signing key');
    if (list.length > MAX_KEYS) this.logger.warn(`The user pool's JWKS lists ${list.length} keys; only the first ${MAX_KEYS} are used`);
    this.keys = keys;
    this.fetchedAt = Date.now();
  }
}

/** Only RSA public keys meant for signatures (and for RS256, when `alg` says so) are usable. */
function importSigningKey(jwk: unknown): { kid: string; keyObject: KeyObject } | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const { kty, use, alg, kid, n, e, d } = jwk as Record<string, unknown>;
  if (kty !== 'RSA' || typeof kid !== 'string' || !KID.test(kid) || d !== undefined) return undefined;
  if (use !== undefined && use !== 'sig') return undefined;
  if (alg !== undefined && alg !== 'RS256') return undefined;
  if (typeof n !== 'string' || typeof e !== 'string') return undefined;
  try {
    const keyObject = createPublicKey({ key: { kty, n, e } as JsonWebKey, format: 'jwk' });
    const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits >= 2048 ? { kid, keyObject } : undefined;
  } catch {
    return undefined;
  }
}
