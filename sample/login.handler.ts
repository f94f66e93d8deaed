import { Injectable } from '@nestjs/common';
import type { CognitoCallbackContext, CognitoCallbackHandler, CognitoError, CognitoLoginResult } from '../lib/index.js';
import { page, sendHtml } from './html.js';

/**
 * The sample's own meaning of "a login": show who signed in and the verified claims.
 * A real app would look up or create its user here and start its own session.
 */
@Injectable()
export class LoginHandler implements CognitoCallbackHandler {
  onSuccess({ idToken, accessToken }: CognitoLoginResult, ctx: CognitoCallbackContext): void {
    const groups = idToken['cognito:groups']?.join(', ') || 'none';
    sendHtml(
      ctx.response,
      200,
      page(
        'Signed in',
        `<h1>Signed in as ${escape(String(idToken['cognito:username'] ?? idToken.sub))}</h1>
        <dl>
          <dt>Email</dt><dd data-testid="email">${escape(String(idToken.email ?? '-'))}</dd>
          <dt>Groups</dt><dd data-testid="groups">${escape(groups)}</dd>
          <dt>Scopes</dt><dd>${escape(accessToken.scope ?? '-')}</dd>
        </dl>
        <h2>Verified ID-token claims</h2>
        <pre>${escape(JSON.stringify(idToken, null, 2))}</pre>
        <p><a href="/">Home</a></p>`,
      ),
    );
  }

  onError(error: CognitoError): void {
    // The module already logged it and redirects to the error page with ?error=<reason>.
    void error;
  }
}

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
