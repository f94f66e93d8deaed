import type { CognitoConfig } from '../config/cognito-config.js';

/** Methods a page cannot use to change anything; every other method needs a same-origin caller. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** @internal */
export function isSafeMethod(method: unknown): boolean {
  // Servers hand the method over in upper case: no new string on every request.
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return true;
  return typeof method === 'string' && SAFE_METHODS.has(method.toUpperCase());
}

/**
 * Why a request that rides on the session cookie must be refused as cross-site, or `undefined`
 * when it comes from the app itself (or a trusted origin). Browsers say where a request comes
 * from in `Sec-Fetch-Site`, which pages cannot forge: `same-origin`, or `none` (typed in, a
 * bookmark), passes. `same-site` does not: a sibling subdomain is another origin. Otherwise the
 * `Origin` header decides, else the `Referer`'s origin: the app's own origin (from
 * `redirectUri`) or one of `trustedOrigins`. A request that says nothing at all is refused.
 *
 * @internal
 */
export function crossSiteRefusal(request: unknown, config: Pick<CognitoConfig, 'appOrigin' | 'trustedOrigins'>): string | undefined {
  const headers = (request as { headers?: Record<string, unknown> } | undefined)?.headers ?? {};
  const site = single(headers['sec-fetch-site'])?.toLowerCase();
  if (site === 'same-origin' || site === 'none') return undefined;

  const origin = single(headers.origin);
  if (origin !== undefined) return isAllowed(origin, config) ? undefined : "its Origin is neither this app's origin nor a trusted origin";
  const referer = single(headers.referer);
  if (referer !== undefined) return isAllowed(originOf(referer), config) ? undefined : "its Referer is neither on this app's origin nor on a trusted origin";
  if (site !== undefined) return `the browser marks it ${site === 'same-site' ? 'same-site (another origin)' : 'cross-site'}`;
  return 'it carries no Sec-Fetch-Site, Origin or Referer header';
}

/**
 * Whether a request is a page the user navigates to (`Sec-Fetch-Dest: document`) or comes from
 * the app's own pages (`Sec-Fetch-Site`). Clients that send neither header (servers, tests, old
 * browsers) are not another site's images, frames or scripts.
 *
 * @internal
 */
export function isNavigationOrSameOrigin(request: unknown): boolean {
  const headers = (request as { headers?: Record<string, unknown> } | undefined)?.headers ?? {};
  const dest = single(headers['sec-fetch-dest']);
  const site = single(headers['sec-fetch-site'])?.toLowerCase();
  return dest === undefined || dest.toLowerCase() === 'document' || site === 'same-origin' || site === 'none';
}

/**
 * Why a WebSocket upgrade that rides on the session cookie must be refused, or `undefined`.
 * Browsers always send `Origin` on an upgrade, and pages cannot forge it; a request without one
 * comes from a program (a server, a test, a CLI), which could send any cookie it holds anyway,
 * unless a browser's `Sec-Fetch-Site` marks it as coming from another site.
 *
 * @internal
 */
export function crossSiteUpgradeRefusal(request: unknown, config: Pick<CognitoConfig, 'appOrigin' | 'trustedOrigins'>): string | undefined {
  const headers = (request as { headers?: Record<string, unknown> } | undefined)?.headers ?? {};
  if (headers.origin === undefined) {
    // socket.io's long-polling handshake is a plain GET, which a browser may send from another
    // site without Origin; it then still says where the request comes from.
    const site = single(headers['sec-fetch-site'])?.toLowerCase();
    return site === undefined || site === 'same-origin' || site === 'none' ? undefined : `the browser marks it ${site === 'same-site' ? 'same-site (another origin)' : 'cross-site'}`;
  }
  const origin = single(headers.origin);
  return origin !== undefined && isAllowed(origin, config) ? undefined : "its Origin is neither this app's origin nor a trusted origin";
}

function isAllowed(origin: string | undefined, { appOrigin, trustedOrigins }: Pick<CognitoConfig, 'appOrigin' | 'trustedOrigins'>): boolean {
  if (origin === undefined) return false;
  const normalised = originOf(origin);
  return normalised !== undefined && (normalised === appOrigin || trustedOrigins.includes(normalised));
}

/** The origin of a URL (`null`, opaque and non-http origins give undefined). */
function originOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** One header value; a repeated header is not trusted. */
function single(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
