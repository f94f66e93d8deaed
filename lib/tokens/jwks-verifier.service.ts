import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type KeyObject, verify as verifySignature } from 'node:crypto';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { JwtVerificationError } from '../errors/jwt-verification.error.js';
import type { CognitoAccessTokenClaims, CognitoIdTokenClaims, CognitoTokenUse } from './cognito-claims.interface.js';
import { CognitoHttpClient } from '../http/cognito-http.client.js';
import { sameString } from './constant-time.util.js';
import { JwksKeySet } from './jwks-key-set.js';
import { RevocationList } from '../fleet/revocation-list.js';
import { VerifiedTokenCache, type VerifiedToken } from './verified-token.cache.js';
import { parseJwt } from './jwt.util.js';

/** @publicApi */
export interface VerifyIdTokenOptions {
  /** The nonce sent to /oauth2/authorize; the token's `nonce` must equal it. */
  nonce?: string;
}

/** @publicApi */
export interface VerifyOptions extends VerifyIdTokenOptions {
  tokenUse: CognitoTokenUse;
}

/** A user pool on the allow-list: its issuer, app clients and signing keys. */
interface TrustedPool {
  issuer: string;
  clientIds: ReadonlySet<string>;
  keys: JwksKeySet;
}

/**
 * Verifies Cognito ID and access tokens against the user pool's JWKS, following the
 * steps AWS prescribes: RS256 only (whatever the header says), key by `kid`, signature,
 * `exp`/`nbf`/`iat` with the clock tolerance, exact `iss`, `token_use`, and `aud`
 * (ID token) or `client_id` (access token). A token seen before skips the signature check
 * (a bounded cache of verified tokens) but never the claim checks. Failures are `JwtVerificationError`,
 * `JwksNoMatchingKeyError` or `JwksUnavailableError`.
 *
 * @publicApi
 */
@Injectable()
export class JwksVerifierService implements OnApplicationBootstrap {
  private readonly logger = new Logger('CognitoModule');
  private readonly pools: Map<string, TrustedPool>;
  private readonly verified: VerifiedTokenCache<TrustedPool>;

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    http: CognitoHttpClient,
    private readonly revocations: RevocationList,
  ) {
    this.verified = new VerifiedTokenCache(config.verifiedTokenCacheSize);
    this.pools = new Map(
      config.trustedPools.map((settings) => {
        const pool: TrustedPool = {
          issuer: settings.issuer,
          clientIds: new Set(settings.clientIds),
          keys: new JwksKeySet(
            { jwksUri: settings.jwksUri, cacheSeconds: config.jwksCacheTimeoutSeconds, cooldownSeconds: config.jwksCooldownSeconds, staleSeconds: config.jwksStaleSeconds },
            http,
            this.logger,
            () => this.verified.forgetIssuer(pool),
          ),
        };
        return [settings.issuer, pool];
      }),
    );
  }

  /**
   * Starts loading every trusted pool's keys as the application boots. Boot does not wait:
   * a slow or failing JWKS endpoint must not hold the app up, and the first verifications
   * join the fetch in flight. A failure only logs.
   */
  onApplicationBootstrap(): void {
    for (const pool of this.pools.values()) void pool.keys.prefetch();
  }

  verifyIdToken(token: string, options: VerifyIdTokenOptions = {}): Promise<CognitoIdTokenClaims> {
    return this.verify(token, { ...options, tokenUse: 'id' });
  }

  verifyAccessToken(token: string): Promise<CognitoAccessTokenClaims> {
    return this.verify(token, { tokenUse: 'access' });
  }

  verify(token: string, options: VerifyOptions & { tokenUse: 'id' }): Promise<CognitoIdTokenClaims>;
  verify(token: string, options: VerifyOptions & { tokenUse: 'access' }): Promise<CognitoAccessTokenClaims>;
  verify(token: string, options: VerifyOptions): Promise<CognitoIdTokenClaims | CognitoAccessTokenClaims>;
  async verify(token: string, { tokenUse, nonce }: VerifyOptions): Promise<CognitoIdTokenClaims | CognitoAccessTokenClaims> {
    if (tokenUse !== 'id' && tokenUse !== 'access') throw new TypeError('verify(): tokenUse must be "id" or "access"');
    const now = Date.now();
    const known = this.verifiedBefore(token, now);
    // Cached payloads are shared between requests, and deeply frozen so none can change them.
    if (known !== undefined) return this.checked(known.payload, known.issuer, now, tokenUse, nonce);

    const { header, payload, signingInput, signature } = parseJwt(token);
    const pool = this.trustedPoolFor(header, payload);
    const kid = header.kid as string;
    // The key is usually at hand: no promise is awaited then.
    const key = pool.keys.peek(kid, now) ?? (await pool.keys.getKey(kid));
    if (!signatureMatches(signingInput, key, signature)) throw new JwtVerificationError('ERR_JWT_SIGNATURE_INVALID', 'The token signature is invalid');
    // Remembered before the claim checks, which run again on every use anyway. Once the cache
    // keeps the payload it is shared, and frozen: this caller gets it frozen too.
    if (isNumericDate(payload.exp)) {
      this.verified.set(token, pool, payload, Math.min(payload.exp * 1000 + this.config.clockToleranceSeconds * 1000, now + 24 * 3600 * 1000));
    }
    return this.checked(payload, pool, now, tokenUse, nonce);
  }

  /**
   * The claims of a token verified before, checked again, without waiting: `undefined` when
   * the token is not in the verified-token cache (then call `verify`). Throws like `verify`.
   *
   * @internal used by CognitoAuthGuard's hot path
   */
  verifyKnown(token: string, tokenUse: CognitoTokenUse): CognitoIdTokenClaims | CognitoAccessTokenClaims | undefined {
    const now = Date.now();
    const known = this.verifiedBefore(token, now);
    return known === undefined ? undefined : this.checked(known.payload, known.issuer, now, tokenUse, undefined);
  }

  /** A token verified before, while its pool's keys are still current (a removed key must not live on in the cache). */
  private verifiedBefore(token: string, now: number): VerifiedToken<TrustedPool> | undefined {
    if (typeof token !== 'string') return undefined;
    const known = this.verified.get(token, now);
    return known?.issuer.keys.freshness(now) === 'fresh' ? known : undefined;
  }

  /** The header's demands, checked before any key is looked at, and the issuer's pool from the allow-list. */
  private trustedPoolFor(header: Readonly<Record<string, unknown>>, payload: Record<string, unknown>): TrustedPool {
    // The algorithm is ours to choose, never the token's.
    if (header.alg !== 'RS256') throw new JwtVerificationError('ERR_JWT_ALG_NOT_ALLOWED', 'Only RS256-signed tokens are accepted');
    if (header.crit !== undefined) throw new JwtVerificationError('ERR_JWT_MALFORMED', 'Malformed token: unsupported "crit" header');
    if (typeof header.kid !== 'string') throw new JwtVerificationError('ERR_JWT_MALFORMED', 'Malformed token: the header has no "kid"');
    // The issuer picks the key set from the allow-list; a URL is never built from the token.
    const pool = typeof payload.iss === 'string' ? this.pools.get(payload.iss) : undefined;
    if (pool === undefined) {
      // Issuers are public URLs, and the received one is what a developer needs to see to fix a
      // misconfigured pool, region or local Cognito. It comes from the token, so it is shortened
      // and escaped to printable ASCII (it ends up in logs and a WWW-Authenticate header).
      const expected = [...this.pools.keys()].map((issuer) => `"${issuer}"`).join(' or ');
      const received = typeof payload.iss === 'string' ? `"${printable(payload.iss)}"` : 'none';
      throw claimError('iss', `does not match the user pool (expected ${expected}, received ${received})`);
    }
    return pool;
  }

  private checked(payload: Readonly<Record<string, unknown>>, pool: TrustedPool, now: number, tokenUse: CognitoTokenUse, nonce: string | undefined): CognitoIdTokenClaims | CognitoAccessTokenClaims {
    this.checkTimes(payload, now);
    this.checkClaims(payload, pool, tokenUse, nonce);
    // Signed out on any instance (logout, revoke, revokeUser), cached or not.
    this.revocations.check(payload);
    return payload as unknown as CognitoIdTokenClaims | CognitoAccessTokenClaims;
  }

  private checkTimes(payload: Readonly<Record<string, unknown>>, nowMs: number): void {
    const now = Math.floor(nowMs / 1000);
    const tolerance = this.config.clockToleranceSeconds;
    const { exp, nbf, iat } = payload;
    if (!isNumericDate(exp)) throw claimError('exp', 'is missing or not a number');
    if (now - tolerance >= exp) throw new JwtVerificationError('ERR_JWT_EXPIRED', 'The token has expired', 'exp');
    if (nbf !== undefined) {
      if (!isNumericDate(nbf)) throw claimError('nbf', 'is not a number');
      if (now + tolerance < nbf) throw new JwtVerificationError('ERR_JWT_NOT_YET_VALID', 'The token is not valid yet', 'nbf');
    }
    if (!isNumericDate(iat)) throw claimError('iat', 'is missing or not a number');
    if (iat > now + tolerance) throw claimError('iat', 'is in the future');
  }

  private checkClaims(payload: Readonly<Record<string, unknown>>, pool: TrustedPool, tokenUse: CognitoTokenUse, nonce: string | undefined): void {
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw claimError('sub', 'is missing');
    if (payload.token_use !== tokenUse) throw claimError('token_use', `is not "${tokenUse}"`);
    if (tokenUse === 'id') {
      checkAudience(payload, pool.clientIds);
      if (nonce !== undefined && !sameString(payload.nonce, nonce)) throw claimError('nonce', 'does not match the login');
    } else if (typeof payload.client_id !== 'string' || !pool.clientIds.has(payload.client_id)) {
      throw claimError('client_id', 'is not this app client');
    }
  }
}

/**
 * OIDC Core 3.1.3.7: the client must be in `aud`; when `aud` lists more than one audience,
 * `azp` must be present; and an `azp`, when present, must name that client.
 */
function checkAudience(payload: Readonly<Record<string, unknown>>, clientIds: ReadonlySet<string>): void {
  const { aud, azp } = payload;
  const audiences = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(audiences) || audiences.length === 0 || audiences.some((entry) => typeof entry !== 'string')) throw claimError('aud', 'is not this app client');
  const ours = audiences.filter((entry: string) => clientIds.has(entry));
  if (ours.length === 0) throw claimError('aud', 'is not this app client');
  if (azp === undefined) {
    if (audiences.length > 1) throw claimError('azp', 'is missing, though "aud" lists several audiences');
    return;
  }
  if (typeof azp !== 'string' || !ours.includes(azp)) throw claimError('azp', 'is not this app client');
}

function signatureMatches(signingInput: string, key: KeyObject, signature: Buffer): boolean {
  try {
    return verifySignature('RSA-SHA256', Buffer.from(signingInput, 'latin1'), key, signature);
  } catch {
    return false; // e.g. a signature of the wrong length
  }
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A value from a token, safe to show: at most 200 characters, each one not printable ASCII (or a quote, a backslash) shown as "?". */
function printable(value: string): string {
  const shown = value.slice(0, 200).replace(/[^\x20-\x7e]|["\\]/g, '?');
  return value.length > 200 ? `${shown}...` : shown;
}

function claimError(claim: string, problem: string): JwtVerificationError {
  return new JwtVerificationError('ERR_JWT_CLAIM_INVALID', `The token's "${claim}" claim ${problem}`, claim);
}
