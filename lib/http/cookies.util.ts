import type { CognitoConfig } from '../config/cognito-config.js';

/**
 * Cookie helpers that work on both Express and Fastify requests, without the
 * application installing a cookie parser.
 *
 * @internal
 */

/** A ready `Set-Cookie` header value. */
export type SetCookie = string;

/** `__Host-` pins a cookie to this exact host over https (no Domain, Path=/, Secure). */
export function cookiePrefix(config: Pick<CognitoConfig, 'secureCookies'>): string {
  return config.secureCookies ? '__Host-' : '';
}

/** Reads the request's cookies from the raw `Cookie` header (the first occurrence of a name wins). */
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

/**
 * A `Set-Cookie` value: always HttpOnly, Path=/ and SameSite=Lax (Lax, so the cookie
 * still arrives on Cognito's cross-site redirect back to the callback). An empty value
 * with Max-Age=0 clears the cookie.
 */
export function serializeCookie(name: string, value: string, attributes: { maxAgeSeconds: number; secure: boolean }): SetCookie {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${attributes.maxAgeSeconds}`];
  if (attributes.maxAgeSeconds === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (attributes.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Returns the parameter when it is one string; repeated or nested parameters count as absent. */
export function singleQueryValue(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

interface HeaderHolder {
  getHeader(name: string): unknown;
  removeHeader(name: string): void;
  header?(name: string, value: string[]): unknown;
  setHeader?(name: string, value: string[]): unknown;
}

/**
 * Takes back `Set-Cookie` headers queued on a response that has not been sent, on Express
 * (a Node response) and Fastify (a reply, whose adapter also copies them to the raw response).
 */
export function withdrawSetCookies(response: unknown, remove: (line: string) => boolean): void {
  const holders = [response, (response as { raw?: unknown } | undefined)?.raw].filter(isHeaderHolder);
  for (const holder of holders) {
    const current = holder.getHeader('set-cookie');
    if (current === undefined) continue;
    const lines = [current].flat().map(String);
    const kept = lines.filter((line) => !remove(line));
    if (kept.length === lines.length) continue;
    holder.removeHeader('set-cookie');
    if (kept.length === 0) continue;
    if (typeof holder.header === 'function') holder.header('set-cookie', kept);
    else holder.setHeader?.('set-cookie', kept);
  }
}

function isHeaderHolder(value: unknown): value is HeaderHolder {
  return typeof (value as HeaderHolder | undefined)?.getHeader === 'function' && typeof (value as HeaderHolder).removeHeader === 'function';
}
