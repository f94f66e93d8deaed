/**
 * Tokens whose signature, key and issuer were already verified, so a bearer token repeated
 * on many requests costs a lookup instead of an RSA verification. The time and audience
 * checks still run on every use. Entries end at the token's `exp`; the size is bounded (the
 * oldest entry goes first); an issuer's entries are dropped when its keys change.
 *
 * @internal
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { token: string; payload: Record<string, unknown>; issuer: string; expiresAt: number }>();
  /**
   * Insertion order for eviction. Asking the Map for its oldest key would walk over every
   * deleted slot at its head: O(n) per insert once the cache is full.
   */
  private readonly order: string[];
  private next = 0;
  /**
   * Admission: a token is cached the second time it is seen. Traffic of distinct tokens then
   * leaves no entries behind for the garbage collector, and a first sighting costs one small
   * number in a set (cleared whenever it fills).
   */
  private readonly seenOnce = new Set<number>();

  constructor(private readonly maxEntries: number) {
    this.order = new Array<string>(maxEntries);
  }

  get(token: string, now: number): Record<string, unknown> | undefined {
    const entry = this.entries.get(keyOf(token));
    // The whole token must match: a key is only a (signature) suffix.
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(keyOf(token));
      return undefined;
    }
    return entry.payload;
  }

  set(token: string, issuer: string, payload: Record<string, unknown>, expiresAt: number): void {
    if (this.maxEntries === 0) return;
    const fingerprint = fingerprintOf(token);
    if (!this.seenOnce.has(fingerprint)) {
      if (this.seenOnce.size >= this.maxEntries) this.seenOnce.clear();
      this.seenOnce.add(fingerprint);
      return;
    }
    const key = keyOf(token);
    const evicted = this.order[this.next];
    if (evicted !== undefined) this.entries.delete(evicted);
    this.order[this.next] = key;
    this.next = (this.next + 1) % this.maxEntries;
    // A copy: the caller keeps (and may change) the object it was given.
    this.entries.set(key, { token, payload: { ...payload }, issuer, expiresAt });
  }

  forgetIssuer(issuer: string): void {
    for (const [key, entry] of this.entries) if (entry.issuer === issuer) this.entries.delete(key);
  }
}

/**
 * The last 43 characters (258 bits of the RSA signature): unique among genuine tokens, and
 * far cheaper to hash than a kilobyte-long token that arrives as a new string on every request.
 */
function keyOf(token: string): string {
  return token.length > 43 ? token.slice(-43) : token;
}

/** 30 bits from the signature's last characters: a collision only admits a token early. */
function fingerprintOf(token: string): number {
  let hash = 0;
  for (let index = Math.max(0, token.length - 5); index < token.length; index++) hash = (hash << 6) ^ token.charCodeAt(index);
  return hash & 0x3fffffff;
}
