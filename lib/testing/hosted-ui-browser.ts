/**
 * Walks the local Cognito's sign-in the way a browser does, over plain HTTP: follows
 * its redirects with a cookie jar, fills the form, and stops at the first redirect that
 * leaves the Hosted UI (the app's callback). Keep one instance to keep the Hosted UI
 * session between sign-ins, as a browser would.
 *
 * @publicApi
 */
export class HostedUiBrowser {
  private readonly cookies = new Map<string, string>();

  async signIn(authorizeUrl: string, credentials: { username: string; password: string } | 'cancel'): Promise<URL> {
    const origin = new URL(authorizeUrl).origin;
    let url = new URL(authorizeUrl);
    let submitted = false;
    for (let hop = 0; hop < 20; hop++) {
      let response = await this.request(url);
      if (response.status === 200 && url.pathname.startsWith('/login/')) {
        if (submitted) throw new Error('The local Cognito refused the credentials');
        const form =
          credentials === 'cancel'
            ? new URLSearchParams({ action: 'cancel' })
            : new URLSearchParams({ action: 'login', username: credentials.username, password: credentials.password });
        response = await this.request(url, form);
        submitted = true;
        if (response.status === 200) throw new Error('The local Cognito refused the credentials');
      }
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) {
        throw new Error(`The local Cognito answered HTTP ${response.status} at ${url.pathname}: ${response.body.slice(0, 300)}`);
      }
      url = new URL(location, url);
      if (url.origin !== origin || !isHostedUiPath(url.pathname)) return url;
    }
    throw new Error('Too many redirects in the local Cognito sign-in');
  }

  /**
   * One request; the body is always read, as a browser does, so no connection is left holding
   * an unread response (a restarted local Cognito would otherwise meet a stale socket).
   */
  private async request(url: URL, form?: URLSearchParams): Promise<{ status: number; headers: Headers; body: string }> {
    const headers: Record<string, string> = {};
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (cookie) headers.cookie = cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form?.toString(), redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute) || /expires=Thu, 01 Jan 1970/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: response.status, headers: response.headers, body: await response.text() };
  }
}

function isHostedUiPath(path: string): boolean {
  return path.startsWith('/oauth2/') || path.startsWith('/login/');
}
