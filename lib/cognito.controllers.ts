import { BadRequestException, Controller, Get, Inject, Post, Query, Req, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { COGNITO_ROUTES } from './cognito.constants.js';
import type { CognitoConfig } from './config/cognito-config.js';
import { Public } from './guards/auth.decorators.js';
import { CognitoSessionService } from './session/cognito-session.service.js';
import { type FlowStep, InvalidLoginRequest, LoginFlowService } from './login/login-flow.service.js';

/**
 * Sends a flow step over the platform's response (Express or Fastify): cookies, then
 * a 302 that no cache may keep.
 */
function send(adapterHost: HttpAdapterHost, response: unknown, step: FlowStep): void {
  const adapter = adapterHost.httpAdapter;
  for (const cookie of step.cookies) adapter.appendHeader(response, 'Set-Cookie', cookie);
  if (step.redirectTo === undefined) return;
  adapter.setHeader(response, 'Cache-Control', 'no-store');
  adapter.redirect(response, 302, step.redirectTo);
}

/**
 * Builds the login, callback and logout controllers of one `CognitoModule` import. Classes are
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
  class CognitoCallbackController {
    constructor(
      private readonly flow: LoginFlowService,
      private readonly adapterHost: HttpAdapterHost,
      @Inject(COGNITO_ROUTES) _routes: unknown,
    ) {}

    @Get()
    async callback(@Req() request: unknown, @Res() response: unknown, @Query() query: unknown): Promise<void> {
      const adapter = this.adapterHost.httpAdapter;
      const step = await this.flow.finish({ request, response }, query, () => adapter.isHeadersSent(response));
      if (adapter.isHeadersSent(response)) return;
      send(this.adapterHost, response, step);
    }
  }

  @Public()
  @Controller()
  class CognitoLogoutController {
    constructor(
      private readonly session: CognitoSessionService,
      private readonly adapterHost: HttpAdapterHost,
      @Inject(COGNITO_ROUTES) _routes: unknown,
    ) {}

    /** GET for links. */
    @Get()
    logoutByLink(@Req() request: unknown, @Res() response: unknown): Promise<void> {
      return this.logout(request, response);
    }

    /** POST for sign-out forms and buttons. */
    @Post()
    logoutByForm(@Req() request: unknown, @Res() response: unknown): Promise<void> {
      return this.logout(request, response);
    }

    private async logout(request: unknown, response: unknown): Promise<void> {
      const redirectTo = await this.session.logout(request, response);
      send(this.adapterHost, response, { cookies: [], redirectTo });
    }
  }

  return {
    controllers: [CognitoLoginController, CognitoCallbackController, CognitoLogoutController],
    applyPaths(config) {
      Controller(config.loginPath)(CognitoLoginController);
      Controller(config.callbackPath)(CognitoCallbackController);
      Controller(config.logoutPath)(CognitoLogoutController);
    },
  };
}
