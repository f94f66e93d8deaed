import { deepFreeze } from './jwt.util.js';

/** @internal */
export interface VerifiedToken<Issuer, Payload extends object = Readonly<Record<string, unknown>>> {
  readonly token: string;
  /** Deeply frozen: every request that hits the entry gets this very object. */
  readonly payload: Readonly<Payload>;
  /** Whoever signed it (the verifier's trusted pool): a hit needs no lookup by `iss`. */
  readonly issuer: Issuer;
  expiresAt: number;
  /** Its place in the eviction ring, so a newer entry under the same key is not evicted by an older slot. */
  readonly slot: number;
}

/**
 * Tokens whose signature, key and issuer were already verified, so a bearer token repeated
 * on many requests costs a lookup instead of an RSA verification. The time and audience
 * checks still run on every use; entries are shared, so payloads are deeply frozen when they
 * are stored. Entries end at the token's `exp`; the size is bounded (the oldest entry goes first);
 * an issuer's entries are dropped when its keys change.
 *
 * The session store keeps opened session cookies in one too (the "token" is the sealed value,
 * whose last characters are its GCM tag).
 *
 * Entries are keyed by a number computed from the signature's last characters, and a hit
 * needs the whole token to match. Every request brings its token as a new string, so a key
 * that is a string would be hashed each time; this one costs a few character reads.
 *
 * @internal
 */
export class VerifiedTokenCache<Issuer, Payload extends object = Readonly<Record<string, unknown>>> {
  private readonly entries = new Map<number, VerifiedToken<Issuer, Payload>>();
  /**
   * Insertion order for eviction. Asking the Map for its oldest key would walk over every
   * deleted slot at its head: O(n) per insert once the cache is full.
   */
  private readonly ring: number[];
  private next = 0;
  /**
   * Admission: a token is cached the second time it is seen. Traffic of distinct tokens then
   * leaves no entries behind for the garbage collector, and a first sighting costs one small
   * number in a set (cleared whenever it fills).
   */
  private readonly seenOnce = new Set<number>();

  constructor(private readonly maxEntries: number) {
    this.ring = new Array<number>(maxEntries).fill(-1);
  }

  get(token: string, now: number): VerifiedToken<Issuer, Payload> | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    // Two tokens can share a key: only the very same token is a hit.
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(token: string, issuer: Issuer, payload: Readonly<Payload>, expiresAt: number): void {
    if (this.maxEntries === 0) return;
    const key = keyOf(token);
    if (!this.seenOnce.has(key)) {
      if (this.seenOnce.size >= this.maxEntries) this.seenOnce.clear();
      this.seenOnce.add(key);
      return;
    }
    const present = this.entries.get(key);
    if (present?.token === token) {
      present.expiresAt = expiresAt; // verified twice at once, say: one entry, one slot
      return;
    }
    const slot = this.next;
    const evicted = this.entries.get(this.ring[slot]);
    if (evicted?.slot === slot) this.entries.delete(this.ring[slot]);
    this.ring[slot] = key;
    this.next = (slot + 1) % this.maxEntries;
    // Shared from now on by every request with this token: none may change what the others see.
    // (Frozen here rather than on every verification: a one-off token's claims are its caller's.)
    this.entries.set(key, { token, payload: deepFreeze(payload), issuer, expiresAt, slot });
  }

  forgetIssuer(issuer: Issuer): void {
    for (const [key, entry] of this.entries) if (entry.issuer === issuer) this.entries.delete(key);
  }
}

/**
 * 30 bits from the last 8 characters, which belong to the RSA signature: distinct among
 * genuine tokens in all but a rare case, which only costs a cache miss.
 */
function keyOf(token: string): number {
  let hash = 0;
  for (let index = Math.max(0, token.length - 8); index < token.length; index++) hash = (Math.imul(hash, 31) + token.charCodeAt(index)) | 0;
  return hash & 0x3fffffff;
}
