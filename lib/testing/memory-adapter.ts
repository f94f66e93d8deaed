/**
 * oidc-provider's storage, kept in this process's memory (the local Cognito is
 * ephemeral by design). Expired entries are dropped when read.
 *
 * @internal
 */
export function createMemoryAdapter(): { Adapter: new (model: string) => unknown; destroy(model: string, id: string): void } {
  const store = new Map<string, { payload: Record<string, any>; expiresAt: number }>();
  const byUid = new Map<string, string>();
  const byGrant = new Map<string, Set<string>>();

  class MemoryAdapter {
    constructor(private readonly model: string) {}

    private key(id: string): string {
      return `${this.model}:${id}`;
    }

    async upsert(id: string, payload: Record<string, any>, expiresIn: number): Promise<void> {
      const key = this.key(id);
      store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY });
      if (payload.uid) byUid.set(payload.uid, key);
      if (payload.grantId) {
        const keys = byGrant.get(payload.grantId) ?? new Set();
        keys.add(key);
        byGrant.set(payload.grantId, keys);
      }
    }

    async find(id: string): Promise<Record<string, any> | undefined> {
      return read(this.key(id));
    }

    async findByUid(uid: string): Promise<Record<string, any> | undefined> {
      const key = byUid.get(uid);
      return key === undefined ? undefined : read(key);
    }

    async findByUserCode(): Promise<undefined> {
      return undefined;
    }

    async consume(id: string): Promise<void> {
      const entry = store.get(this.key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      store.delete(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const key of byGrant.get(grantId) ?? []) store.delete(key);
      byGrant.delete(grantId);
    }
  }

  return { Adapter: MemoryAdapter, destroy: (model, id) => store.delete(`${model}:${id}`) };

  function read(key: string): Record<string, any> | undefined {
    const entry = store.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  }
}
