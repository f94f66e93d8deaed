/** One stored oidc-provider entry (`expiresAt`: epoch milliseconds, `null` for never). @internal */
export interface StoredEntry {
  payload: Record<string, any>;
  expiresAt: number | null;
}

/**
 * oidc-provider's storage (sessions, grants, codes, refresh tokens), kept in this process's
 * memory. Expired entries are dropped when read. With `onChange`, every change is reported with
 * the whole store, so the local Cognito can keep it on disk and survive a restart; `initial`
 * is what it kept.
 *
 * @internal
 */
export function createMemoryAdapter({ initial = [], onChange }: { initial?: [string, StoredEntry][]; onChange?(entries: [string, StoredEntry][]): void } = {}): {
  Adapter: new (model: string) => unknown;
  destroy(model: string, id: string): void;
} {
  const store = new Map<string, StoredEntry>();
  const byUid = new Map<string, string>();
  const byGrant = new Map<string, Set<string>>();
  const changed = () => onChange?.([...store].filter(([, entry]) => entry.expiresAt === null || entry.expiresAt > Date.now()));
  const index = (key: string, payload: Record<string, any>) => {
    if (payload.uid) byUid.set(payload.uid, key);
    if (payload.grantId) {
      const keys = byGrant.get(payload.grantId) ?? new Set();
      keys.add(key);
      byGrant.set(payload.grantId, keys);
    }
  };
  for (const [key, entry] of initial) {
    store.set(key, entry);
    index(key, entry.payload);
  }

  class MemoryAdapter {
    constructor(private readonly model: string) {}

    private key(id: string): string {
      return `${this.model}:${id}`;
    }

    async upsert(id: string, payload: Record<string, any>, expiresIn: number): Promise<void> {
      const key = this.key(id);
      store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null });
      index(key, payload);
      changed();
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
      changed();
    }

    async destroy(id: string): Promise<void> {
      store.delete(this.key(id));
      changed();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const key of byGrant.get(grantId) ?? []) store.delete(key);
      byGrant.delete(grantId);
      changed();
    }
  }

  return {
    Adapter: MemoryAdapter,
    destroy: (model, id) => {
      store.delete(`${model}:${id}`);
      changed();
    },
  };

  function read(key: string): Record<string, any> | undefined {
    const entry = store.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  }
}
