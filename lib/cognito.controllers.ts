import { BadRequestException, Controller, ForbiddenException, Get, Inject, Post, Query, Req, Res, VERSION_NEUTRAL, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { COGNITO_CONFIG, COGNITO_ROUTES } from './cognito.constants.js';
import type { CognitoConfig } from './config/cognito-config.js';
import { CrossSiteRequestError } from './errors/cross-site-request.error.js';
import { crossSiteRefusal } from './http/cross-site.util.js';
import { Public } from './guards/auth.decorators.js';
import { CognitoSessionService } from './session/cognito-session.service.js';
import { type FlowStep, InvalidLoginRequest, LoginFlowService } from './login/login-flow.service.js';
import { send } from './cognito.routes.js';

/**
 * The page a cross-site `GET` of the logout route gets: one button that posts to the same URL,
 * from this origin. No script; no framing (a framed button could be clicked by trickery).
 */
const CONFIRM_LOGOUT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign out?</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; text-align: center">
<p>Do you want to sign out?</p>
<form method="post"><button type="submit">Sign out</button></form>
</body></html>
`;

function sendConfirmationPage(adapterHost: HttpAdapterHost, response: unknown): void {
  const adapter = adapterHost.httpAdapter;
  adapter.setHeader(response, 'Content-Type', 'text/html; charset=utf-8');
  adapter.setHeader(response, 'Cache-Control', 'no-store');
  adapter.setHeader(response, 'Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  adapter.setHeader(response, 'X-Frame-Options', 'DENY');
  adapter.reply(response, CONFIRM_LOGOUT_PAGE, 200);
}

/**
 * Builds the login and logout controllers of one `CognitoModule` import (the callback is not a
 * controller: see `CognitoRoutes`). Classes are
 * made per import because their paths come from options that may resolve asynchronously:
 * the `COGNITO_ROUTES` provider stamps the paths once the options are known, which
 * Nest does before it registers routes.
 *
 * @internal
 */
export function createCognitoControllers(): { controllers: Type[]; applyPaths(config: CognitoConfig): void } {
  // Public: an app's global CognitoAuthGuard must not lock its users out of signing in or out.
  @Public()
  @Controller()
  class CognitoLoginController {
    constructor(
      private readonly flow: LoginFlowService,
      private readonly adapterHost: HttpAdapterHost,
      @Inject(COGNITO_ROUTES) _routes: unknown,
    ) {}

    @Get()
    async login(@Req() request: unknown, @Res() response: unknown, @Query() query: unknown): Promise<void> {
      let step: FlowStep;
      try {
        step = await this.flow.start(request, query);
      } catch (error) {
        if (error instanceof InvalidLoginRequest) throw new BadRequestException(error.message);
        throw error;
      }
      send(this.adapterHost, response, step);
    }
  }

  @Public()
  @Controller()
  class CognitoLogoutController {
    constructor(
      private readonly session: CognitoSessionService,
      private readonly adapterHost: HttpAdapterHost,
      @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
      @Inject(COGNITO_ROUTES) _routes: unknown,
    ) {}

    /**
     * GET for links. A link on another site must not sign the user out (the session cookie
     * rides along on top-level navigations): then a small page asks, and its button posts.
     */
    @Get()
    async logoutByLink(@Req() request: unknown, @Res() response: unknown): Promise<void> {
      if (this.config.csrfProtection && crossSiteRefusal(request, this.config) !== undefined) {
        sendConfirmationPage(this.adapterHost, response);
        return;
      }
      await this.logout(request, response);
    }

    /** POST for sign-out forms and buttons; refused when another site's page sends it. */
    @Post()
    async logoutByForm(@Req() request: unknown, @Res() response: unknown): Promise<void> {
      const refusal = this.config.csrfProtection ? crossSiteRefusal(request, this.config) : undefined;
      if (refusal !== undefined) throw new ForbiddenException(new CrossSiteRequestError(refusal).message);
      await this.logout(request, response);
    }

    private async logout(request: unknown, response: unknown): Promise<void> {
      const redirectTo = await this.session.logout(request, response);
      send(this.adapterHost, response, { cookies: [], redirectTo });
    }
  }

  return {
    controllers: [CognitoLoginController, CognitoLogoutController],
    applyPaths(config) {
      // Version-neutral: with URI versioning on, signing in is not part of any API version.
      Controller({ path: config.loginPath, version: VERSION_NEUTRAL })(CognitoLoginController);
      Controller({ path: config.logoutPath, version: VERSION_NEUTRAL })(CognitoLogoutController);
    },
  };
}
