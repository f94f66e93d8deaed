/**
 * What may be logged of an error that is not ours: its class name and its code, never its
 * message (an app's or a library's message may hold a token, a code or a user's data).
 */

/**
 * A class name is safe to log; anything else an error calls itself is not.
 *
 * @internal
 */
export function nameOf(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  try {
    return typeof error.name === 'string' && /^[\w$.-]{1,64}$/.test(error.name) ? error.name : 'Error';
  } catch {
    return 'Error'; // a getter that throws: the callback still never fails
  }
}

/**
 * An error's name and, when it has a short identifier-like one, its `code`: nothing the app wrote as text.
 *
 * @internal
 */
export function describeError(cause: unknown): string {
  let code: unknown;
  try {
    code = (cause as { code?: unknown } | null)?.code;
  } catch {
    code = undefined;
  }
  const safeCode = (typeof code === 'string' && /^[\w.-]{1,64}$/.test(code)) || typeof code === 'number' ? ` [${String(code)}]` : '';
  return `${nameOf(cause)}${safeCode}`;
}
