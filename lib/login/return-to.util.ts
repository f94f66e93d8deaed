/**
 * Accepts a post-login destination only when it is a same-origin relative path, so the
 * login route cannot be used as an open redirector (`//evil.example`, `/\evil.example`,
 * `https://…` and control characters are all refused).
 *
 * @internal
 */
export function sanitizeReturnTo(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0 || value.length > 2048) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return undefined;
  if (/[\u0000-\u001F\u007F]/.test(value)) return undefined;
  const base = 'http://same-origin.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return undefined;
  }
  if (url.origin !== base) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** A redirect target the application chose: a path on this site or an absolute http(s) URL. @internal */
export function isRedirectTarget(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || /[\u0000-\u001F\u007F]/.test(value)) return false;
  if (value.startsWith('/')) return true;
  return /^https?:\/\//i.test(value);
}

/** Appends `?error=<reason>` (or `&error=`) to the error page's URL. @internal */
export function withErrorReason(target: string, reason: string): string {
  const [withoutHash, hash] = target.split('#', 2);
  const separator = withoutHash.includes('?') ? '&' : '?';
  return `${withoutHash}${separator}error=${encodeURIComponent(reason)}${hash === undefined ? '' : `#${hash}`}`;
}
