/** The raw `returnTo` a client may send, before any encoding. */
const MAX_RETURN_TO_LENGTH = 2048;
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F]/;
/** Any origin works as the base: only whether the result stays on it matters. */
const SAME_ORIGIN = 'http://same-origin.invalid';

/**
 * A value is a path on this site when a browser, resolving it against the page's URL, stays on
 * the same origin: one leading `/`, never `//` or `/\` (both mean another host), no scheme, no
 * control characters. The check runs on the value that will be sent, not on the input.
 *
 * @internal
 */
export function isSitePath(value: string): boolean {
  if (value.length === 0 || value[0] !== '/' || value[1] === '/' || value[1] === '\\') return false;
  if (CONTROL_CHARACTERS.test(value)) return false;
  try {
    return new URL(value, SAME_ORIGIN).origin === SAME_ORIGIN;
  } catch {
    return false;
  }
}

/**
 * Accepts a post-login destination only when it is a path on this site, so the login route
 * cannot be used as an open redirector. The input is normalised the way a browser would read it
 * (dot segments, percent-encoding) and the *normalised* value is checked again before it is
 * returned: `/.//evil.example` normalises to `//evil.example`, another host.
 *
 * @internal
 */
export function sanitizeReturnTo(value: string | undefined): string | undefined {
  if (value === undefined || value.length > MAX_RETURN_TO_LENGTH || !isSitePath(value) || value.includes('\\')) return undefined;
  const normalised = pathOf(new URL(value, SAME_ORIGIN));
  // A safe path is a fixed point of the parser: reading it again changes nothing.
  return isSitePath(normalised) && normalised === pathOf(new URL(normalised, SAME_ORIGIN)) ? normalised : undefined;
}

/** The path, query and fragment of a URL: what a Location on this site carries. */
function pathOf(url: URL): string {
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * Where to send the browser for a `redirectTo` the application's handler chose: a path on this
 * site, or an absolute http(s) URL (the app may send its users anywhere). A value starting with
 * `//` or `/\` is not a path but a scheme-relative URL to another host: it is read as the browser
 * would (against `appOrigin`) and sent in full, so nothing downstream mistakes it for a local path.
 * `undefined` when the value is neither.
 *
 * @internal
 */
export function resolveRedirectTarget(value: unknown, appOrigin: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || CONTROL_CHARACTERS.test(value)) return undefined;
  if (isSitePath(value)) {
    // Sent percent-encoded (a Location header carries no raw non-ASCII); should encoding or dot
    // segments turn it into `//host`, the same-origin URL is sent in full instead.
    const url = new URL(value, appOrigin);
    const path = pathOf(url);
    return isSitePath(path) ? path : url.href;
  }
  if (!value.startsWith('/') && !/^https?:\/\//i.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, appOrigin);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return undefined;
  return url.href;
}

/** Appends `?error=<reason>` (or `&error=`) to the error page's URL. @internal */
export function withErrorReason(target: string, reason: string): string {
  // The fragment starts at the first '#' and runs to the end, '#' included.
  const hashAt = target.indexOf('#');
  const withoutHash = hashAt === -1 ? target : target.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : target.slice(hashAt);
  const separator = withoutHash.includes('?') ? '&' : '?';
  return `${withoutHash}${separator}error=${encodeURIComponent(reason)}${hash}`;
}
