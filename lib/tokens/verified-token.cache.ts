/**
 * Tokens whose signature, key and issuer were already verified, keyed by the whole token, so
 * a bearer token repeated on many requests costs a lookup instead of an RSA verification. The
 * time and audience checks still run on every use. Entries end at the token's `exp`; the size
 * is bounded (the oldest entry goes first); an issuer's entries are dropped when its keys change.
 *
 * @internal
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { payload: Record<string, unknown>; issuer: string; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  get(token: string, now: number): Record<string, unknown> | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.payload;
  }

  set(token: string, issuer: string, payload: Record<string, unknown>, expiresAt: number): void {
    if (this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { payload, issuer, expiresAt });
  }

  forgetIssuer(issuer: string): void {
    for (const [token, entry] of this.entries) if (entry.issuer === issuer) this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
