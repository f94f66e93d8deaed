import { timingSafeEqual } from 'node:crypto';

/** String equality in time that does not depend on where they differ (state, nonce). @internal */
export function sameString(actual: unknown, expected: string): boolean {
  if (typeof actual !== 'string') return false;
  const a = Buffer.from(actual);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
