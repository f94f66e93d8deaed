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
        <p><button class="button" type="button" id="call-api">Call the protected API</button> <a href="/admin">Admin page</a> <a href="/live">Live page</a></p>
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

  /**
   * Who else is signed in, live, and a clock for the admin group: a socket.io connection that
   * the session cookie authenticates (see live.gateway.ts).
   */
  @Get('live')
  async live(@Req() request: unknown, @Res() response: unknown): Promise<void> {
    const state = await this.session.resume(request, response);
    if (state.status !== 'active') return redirect(response, '/auth/login?returnTo=%2Flive');
    sendHtml(
      response,
      200,
      page(
        'Live',
        `<h1>Live</h1>
        <p>Connection: <strong data-testid="connection">connecting…</strong></p>
        <h2>Signed in right now</h2>
        <ul data-testid="presence" id="presence"></ul>
        <p><button class="button" type="button" id="clock">What time is it? (admin group)</button></p>
        <pre data-testid="clock-result" id="clock-result"></pre>
        <p><a href="/me">Back</a></p>
        <script src="/socket.io/socket.io.js"></script>
        <script>
          const status = document.querySelector('[data-testid="connection"]');
          const result = document.getElementById('clock-result');
          // The browser sends the session cookie with the upgrade; no token in the page.
          const socket = io('/live', { transports: ['websocket'] });
          socket.on('connect', () => (status.textContent = 'connected'));
          socket.on('connect_error', (error) => (status.textContent = 'refused: ' + (error.data ? error.data.code : error.message)));
          socket.on('disconnect', (reason) => (status.textContent = 'disconnected: ' + reason));
          socket.on('presence', (names) => {
            const list = document.getElementById('presence');
            list.replaceChildren(...names.map((name) => Object.assign(document.createElement('li'), { textContent: name })));
          });
          socket.on('exception', (error) => (result.textContent = 'refused: ' + error.code));
          document.getElementById('clock').addEventListener('click', async () => {
            const answer = await socket.emitWithAck('clock');
            result.textContent = answer.time + ' for ' + answer.for;
          });
        </script>`,
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
