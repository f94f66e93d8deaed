import { Controller, Get, Header, Query, Req, Res } from '@nestjs/common';
import { CognitoSessionService, Public } from '../lib/index.js';
import { escapeHtml, page, redirect, sendHtml } from './html.js';

/** Pages anyone may open; they read the session themselves. */
@Public()
@Controller()
export class PagesController {
  constructor(private readonly session: CognitoSessionService) {}

  @Get()
  async home(@Req() request: unknown, @Res() response: unknown): Promise<void> {
    const state = await this.session.resume(request, response);
    const body =
      state.status === 'active'
        ? `<p>Signed in as <strong>${escapeHtml(state.accessToken.username ?? state.accessToken.sub)}</strong>.</p>
           <p><a class="button" href="/me">Your profile</a></p>`
        : `<p>Sign in through the Cognito Hosted UI; the app's <code>LoginHandler</code> receives the verified tokens.</p>
           <p><a class="button" href="/auth/login">Sign in</a></p>`;
    sendHtml(response, 200, page('Home', `<h1>nestjs-cognito-lowlevel sample</h1>${body}`));
  }

  /** The signed-in page: kept alive by the session's refresh. */
  @Get('me')
  async me(@Req() request: unknown, @Res() response: unknown): Promise<void> {
    const state = await this.session.resume(request, response);
    if (state.status !== 'active') return redirect(response, '/auth/login?returnTo=%2Fme');
    const idToken = state.idToken;
    const username = String(idToken?.['cognito:username'] ?? state.accessToken.username ?? state.accessToken.sub);
    sendHtml(
      response,
      200,
      page(
        'Signed in',
        `<h1>Signed in as <span data-testid="username">${escapeHtml(username)}</span></h1>
        <dl>
          <dt>Email</dt><dd data-testid="email">${escapeHtml(String(idToken?.email ?? '-'))}</dd>
          <dt>Groups</dt><dd data-testid="groups">${escapeHtml(state.accessToken['cognito:groups']?.join(', ') || 'none')}</dd>
          <dt>Scopes</dt><dd>${escapeHtml(state.accessToken.scope ?? '-')}</dd>
        </dl>
        <p><button class="button" type="button" id="call-api">Call the protected API</button> <a href="/admin">Admin page</a></p>
        <pre data-testid="api-result" id="api-result"></pre>
        <form method="post" action="/auth/logout"><button class="button" type="submit">Sign out</button></form>
        <script>
          document.getElementById('call-api').addEventListener('click', async () => {
            const response = await fetch('/api/me');
            document.getElementById('api-result').textContent = response.status + ' ' + JSON.stringify(await response.json(), null, 2);
          });
        </script>
        <h2>Verified ID-token claims</h2>
        <pre data-testid="claims">${escapeHtml(JSON.stringify(idToken ?? {}, null, 2))}</pre>
        <p><a href="/">Home</a></p>`,
      ),
    );
  }

  @Get('signed-out')
  @Header('content-type', 'text/html; charset=utf-8')
  signedOut(): string {
    return page('Signed out', `<h1>You are signed out</h1><p>The Hosted UI session has ended too.</p><p><a class="button" href="/auth/login">Sign in again</a></p>`);
  }

  @Get('login-error')
  @Header('content-type', 'text/html; charset=utf-8')
  loginError(@Query('error') reason?: string): string {
    const safe = /^[a-z_]{1,64}$/.test(reason ?? '') ? reason : 'unknown';
    return page('Sign-in failed', `<h1 class="error">Sign-in failed</h1><p>Reason: <code>${safe}</code></p><p><a href="/">Home</a></p>`);
  }
}
