/**
 * Cookie and request helpers that work on both Express and Fastify requests,
 * without the application installing a cookie parser.
 *
 * @internal
 */

export interface CookieAttributes {
  maxAgeSeconds: number;
  secure: boolean;
  /** Lax, so the cookie still arrives on Cognito's cross-site redirect back to the callback. */
  sameSite: 'Lax' | 'Strict';
}

/** Reads the request's cookies from the raw `Cookie` header (first occurrence of a name wins). */
export function readCookies(request: unknown): Map<string, string> {
  const header = (request as { headers?: Record<string, unknown> } | undefined)?.headers?.cookie;
  const cookies = new Map<string, string>();
  if (typeof header !== 'string') return cookies;
  for (const pair of header.split(';')) {
    const index = pair.indexOf('=');
    if (index <= 0) continue;
    const name = pair.slice(0, index).trim();
    let value = pair.slice(index + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** A `Set-Cookie` value; HttpOnly and Path=/ always (required by the `__Host-` prefix). */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', `SameSite=${attributes.sameSite}`, `Max-Age=${attributes.maxAgeSeconds}`];
  if (attributes.maxAgeSeconds === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (attributes.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Returns the parameter when it is one string; repeated or nested parameters count as absent. */
export function singleQueryValue(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}
