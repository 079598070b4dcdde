{{ header }}
// Cache-aside is not lowered to serverless functions (as for the Python functions): no entity
// has a cache prefix here, so the CRUD routes never build a RowCache.

export interface RowCache {
  get(id: unknown): Promise<Record<string, unknown> | null>;
  put(id: unknown, row: Record<string, unknown>): Promise<void>;
  invalidate(id: unknown): Promise<void>;
}
