import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { COGNITO_CALLBACK_HANDLER, COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { AuthorizationResponseError } from '../errors/authorization-response.error.js';
import { CallbackHandlerError } from '../errors/callback-handler.error.js';
import { CognitoError } from '../errors/cognito.error.js';
import { LoginFlowError } from '../errors/login-flow.error.js';
import { UnexpectedLoginError } from '../errors/unexpected-login.error.js';
import { describeError, nameOf } from '../errors/describe-error.util.js';
import { singleQueryValue } from '../http/cookies.util.js';
import { isNavigationOrSameOrigin } from '../http/cross-site.util.js';
import { CognitoSessionService } from '../session/cognito-session.service.js';
import { JwksVerifierService } from '../tokens/jwks-verifier.service.js';
import { TokenExchangeService } from '../tokens/token-exchange.service.js';
import type { CognitoCallbackContext, CognitoCallbackHandler, CognitoCallbackOutcome } from './cognito-callback-handler.interface.js';
import { LoginStateService } from './login-state.service.js';
import type { SetCookie } from '../http/cookies.util.js';
import { resolveRedirectTarget, sanitizeReturnTo, withErrorReason } from './return-to.util.js';

/** Query parameters the login route forwards to /oauth2/authorize, with what each may hold. */
const PASS_THROUGH: Record<string, RegExp> = {
  identity_provider: /^[\w\-.: ]{1,128}$/,
  idp_identifier: /^[\w\-.@]{1,128}$/,
  lang: /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/,
  login_hint: /^[^\u0000-\u001F\u007F]{1,256}$/,
  prompt: /^(none|login|select_account|consent)( (login|select_account|consent))*$/,
};

/** The outcome of a login step: cookies to set and where the browser goes next. @internal */
export interface FlowStep {
  cookies: SetCookie[];
  /** undefined when the application's handler already answered the request. */
  redirectTo: string | undefined;
}

/** The parameters of /auth/login that were refused. @internal */
export class InvalidLoginRequest extends Error {}

/**
 * The login flow, independent of the HTTP platform: starting a login (state, PKCE,
 * nonce) and finishing it at the callback (checks, exchange, verification, handler).
 *
 * @internal
 */
@Injectable()
export class LoginFlowService {
  private readonly logger = new Logger('CognitoModule');

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    @Inject(COGNITO_CALLBACK_HANDLER) private readonly handler: CognitoCallbackHandler,
    private readonly loginState: LoginStateService,
    private readonly tokens: TokenExchangeService,
    private readonly verifier: JwksVerifierService,
    private readonly session: CognitoSessionService,
  ) {}

  async start(request: unknown, query: unknown): Promise<FlowStep> {
    // Each start sets a cookie: another site's images or frames must not be able to pile them up.
    if (!isNavigationOrSameOrigin(request)) {
      throw new InvalidLoginRequest('A login starts with a top-level navigation (a link or a redirect), not from an image, frame or script of another site');
    }
    const state = randomToken();
    const codeVerifier = randomToken(48);
    const nonce = randomToken();
    const returnTo = sanitizeReturnTo(singleQueryValue(query, 'returnTo'));

    const url = new URL(this.config.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.config.redirectUri);
    url.searchParams.set('scope', this.config.scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', createHash('sha256').update(codeVerifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('nonce', nonce);
    const refused: string[] = [];
    for (const [name, pattern] of Object.entries(PASS_THROUGH)) {
      const raw = (query as Record<string, unknown> | undefined)?.[name];
      if (raw === undefined) continue;
      if (typeof raw === 'string' && pattern.test(raw)) url.searchParams.set(name, raw);
      else refused.push(name);
    }
    if (refused.length > 0) throw new InvalidLoginRequest(`Invalid login parameter${refused.length > 1 ? 's' : ''}: ${refused.join(', ')}`);

    const cookies = await this.loginState.save(request, { state, codeVerifier, nonce, redirectUri: this.config.redirectUri, returnTo });
    return { cookies, redirectTo: url.toString() };
  }

  /** Never throws: every failure becomes a redirect to the error page. */
  async finish(ctx: CognitoCallbackContext, query: unknown, isAnswered: () => boolean): Promise<FlowStep> {
    const { login, error: stateError, clear } = await this.loginState.consume(ctx.request, singleQueryValue(query, 'state'));
    try {
      if (stateError) throw stateError;
      const oauthError = singleQueryValue(query, 'error');
      if (oauthError !== undefined) throw new AuthorizationResponseError(oauthError, singleQueryValue(query, 'error_description'));
      const code = singleQueryValue(query, 'code');
      if (!code) throw new LoginFlowError('ERR_CALLBACK_MISSING_CODE');

      const tokens = await this.tokens.exchangeCode({ code, redirectUri: login!.redirectUri, codeVerifier: login!.codeVerifier });
      const idToken = await this.verifier.verifyIdToken(tokens.idToken, { nonce: login!.nonce });
      const accessToken = await this.verifier.verifyAccessToken(tokens.accessToken);

      let outcome: CognitoCallbackOutcome | void;
      try {
        outcome = await this.handler.onSuccess({ idToken, accessToken, tokens, returnTo: login!.returnTo }, ctx);
      } catch (cause) {
        throw new CallbackHandlerError(cause);
      }
      if (isAnswered()) return { cookies: clear, redirectTo: undefined };
      if (outcome?.redirectTo === undefined) return { cookies: clear, redirectTo: login!.returnTo ?? this.config.successRedirect };
      const target = resolveRedirectTarget(outcome.redirectTo, this.config.appOrigin);
      if (target === undefined) throw new CallbackHandlerError(new TypeError('onSuccess returned a redirectTo that is not a path or an http(s) URL'));
      return { cookies: clear, redirectTo: target };
    } catch (caught) {
      const error = caught instanceof CognitoError ? caught : new UnexpectedLoginError(caught);
      this.logFailure(error);
      // Before onError, which may answer the request itself: a failed login never signs anyone in.
      this.session.withdraw(ctx.response);
      return { cookies: clear, redirectTo: await this.errorDestination(error, ctx, isAnswered) };
    }
  }

  private async errorDestination(error: CognitoError, ctx: CognitoCallbackContext, isAnswered: () => boolean): Promise<string | undefined> {
    const fallback = withErrorReason(this.config.errorRedirect, error.reason);
    if (typeof this.handler.onError !== 'function') return fallback;
    try {
      const outcome = await this.handler.onError(error, ctx);
      if (isAnswered()) return undefined;
      return resolveRedirectTarget(outcome?.redirectTo, this.config.appOrigin) ?? fallback;
    } catch (hookError) {
      this.logger.error(`The callback handler's onError threw (${nameOf(hookError)}); using the error redirect`);
      return isAnswered() ? undefined : fallback;
    }
  }

  private logFailure(error: CognitoError): void {
    // Our messages never contain tokens, codes or secrets. A cause is the app's own handler
    // error or a bug of ours: only its name and code are logged, since the app's message may
    // hold anything (a token, a user's data).
    const cause = error.cause === undefined ? '' : ` (cause: ${describeError(error.cause)})`;
    const line = `Login failed: ${error.code}: ${error.message}${cause}`;
    if (error instanceof CallbackHandlerError || error instanceof UnexpectedLoginError) this.logger.error(line);
    else this.logger.warn(line);
  }
}

function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
