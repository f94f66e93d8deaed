import { Injectable } from '@nestjs/common';
import { CognitoSessionService, type CognitoCallbackContext, type CognitoCallbackHandler, type CognitoLoginResult } from '../lib/index.js';

/**
 * The sample's meaning of "a login": keep the tokens in the module's session cookies.
 * A real app would also look up or create its user here.
 */
@Injectable()
export class LoginHandler implements CognitoCallbackHandler {
  constructor(private readonly session: CognitoSessionService) {}

  async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext): Promise<void> {
    await this.session.establish(ctx.response, result.tokens);
    // No redirectTo: the browser goes to returnTo, else successRedirect (/me).
  }
}
