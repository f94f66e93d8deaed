import { Inject, Injectable, Logger, RequestMethod, type OnModuleInit, type Type } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef, ModulesContainer, type ApplicationConfig } from '@nestjs/core';
import { COGNITO_CONFIG } from './cognito.constants.js';
import type { CognitoConfig } from './config/cognito-config.js';
import { CognitoConfigurationError } from './errors/configuration.error.js';
import { describeError } from './errors/describe-error.util.js';
import { LoginFlowService, type FlowStep } from './login/login-flow.service.js';

/** Where RouterModule keeps a module's path (`MODULE_PATH` of @nestjs/common, not exported by its entry point). */
const MODULE_PATH = '__module_path__';

/** The module class whose RouterModule path (if any) applies to the login and logout routes. @internal */
export const COGNITO_MODULE_CLASS = 'COGNITO:MODULE_CLASS';

/**
 * Serves the callback, and says where the module's routes are.
 *
 * The callback is the one route whose public URL is fixed from outside: Cognito calls
 * `redirectUri`, character for character. So it is registered on the HTTP platform at exactly
 * that path (or at `callbackPath`, when a reverse proxy rewrites paths), not as a controller
 * route: a global prefix, URI versioning or a RouterModule path cannot move it away from where
 * Cognito calls. Login and logout are ordinary controllers and follow the app's prefix.
 *
 * Registered in `onModuleInit`: after Nest has mapped the controllers, and before it adds its
 * not-found handler (Express) or starts listening (Fastify).
 *
 * @internal
 */
@Injectable()
export class CognitoRoutes implements OnModuleInit {
  private readonly logger = new Logger('CognitoModule');

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    @Inject(COGNITO_MODULE_CLASS) private readonly moduleClass: Type,
    private readonly flow: LoginFlowService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly modules: ModulesContainer,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter === undefined || adapter === null) return; // an application context without HTTP
    // Exactly the path Cognito calls, trailing slash included (Fastify tells them apart).
    const redirectPath = new URL(this.config.redirectUri).pathname;
    const callbackPath = this.config.callbackPathFromOption ? `/${this.config.callbackPath}` : redirectPath;
    if (this.servedByApp(callbackPath)) {
      throw new CognitoConfigurationError([
        `the app already serves GET ${callbackPath}, where the callback must answer (the path of redirectUri` +
          `${this.config.callbackPathFromOption ? ', or callbackPath' : ''}): move that route, or register another callback URL on the app client`,
      ]);
    }
    try {
      adapter.get(callbackPath, (request: unknown, response: unknown) => void this.callback(request, response));
    } catch (error) {
      throw new CognitoConfigurationError([`the callback route ${callbackPath} could not be registered: ${describeError(error)}`]);
    }
    if (callbackPath !== redirectPath) {
      // Only an explicit callbackPath gets here: a reverse proxy that rewrites paths.
      this.logger.warn(
        `The callback answers at ${callbackPath} (callbackPath), but Cognito calls ${redirectPath} (the path of redirectUri): ` +
          'this works only behind a reverse proxy that rewrites one into the other',
      );
    }
    const { userPoolId, region, domain } = this.config;
    const local = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|$)/.test(domain);
    const cognito = local ? `local Cognito at ${domain} (user pool ${userPoolId})` : `user pool ${userPoolId} (${region}), Hosted UI ${domain}`;
    this.logger.log(
      `Using ${cognito}; login starts at ${this.mappedPath(this.config.loginPath)}, callback at ${callbackPath}, ` +
        `logout at ${this.mappedPath(this.config.logoutPath)}` +
        // Never the Redis URL: it may hold a password.
        (this.config.redis === undefined ? '' : `; shared state in Redis (keys ${this.config.redis.keyPrefix}*, sessions in ${this.config.sessionStore === 'redis' ? 'Redis' : 'cookies'})`),
    );
  }

  private async callback(request: unknown, response: unknown): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    try {
      const query = (request as { query?: unknown }).query ?? {};
      const step = await this.flow.finish({ request, response }, query, () => adapter.isHeadersSent(response));
      if (adapter.isHeadersSent(response)) return;
      send(this.adapterHost, response, step);
    } catch (error) {
      // The flow turns every failure into an error redirect; this is a bug's last line of defence.
      this.logger.error(`The callback failed unexpectedly: ${describeError(error)}`);
      if (!adapter.isHeadersSent(response)) adapter.reply(response, { statusCode: 500, message: 'Internal server error' }, 500);
    }
  }

  /**
   * Where Nest maps a controller route of this module: the global prefix (unless the app
   * excludes the route from it), then the module's RouterModule path, then the route. Versioning
   * adds nothing: the module's controllers are version-neutral.
   */
  private mappedPath(route: string): string {
    const applicationId = this.modules.applicationId;
    const modulePath: string | undefined =
      Reflect.getMetadata(MODULE_PATH + applicationId, this.moduleClass) ?? Reflect.getMetadata(MODULE_PATH, this.moduleClass);
    const path = `/${[modulePath, route].map((part) => part?.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;
    const appConfig = (this.moduleRef as unknown as { container?: { applicationConfig?: ApplicationConfig } }).container?.applicationConfig;
    const prefix = appConfig?.getGlobalPrefix().replace(/^\/+|\/+$/g, '');
    if (!prefix) return path;
    const excluded = (appConfig!.getGlobalPrefixOptions().exclude ?? []).some(
      (entry) => (entry.requestMethod === RequestMethod.ALL || entry.requestMethod === RequestMethod.GET) && entry.pathRegex.test(path),
    );
    return excluded ? path : `/${prefix}${path}`;
  }

  /** Whether a route of the app already answers GET at this path (Express 4 or 5, Fastify). */
  private servedByApp(path: string): boolean {
    const instance = this.adapterHost.httpAdapter.getInstance?.() as
      | { hasRoute?(route: { method: string; url: string }): boolean; router?: { stack?: unknown[] }; _router?: { stack?: unknown[] } }
      | undefined;
    if (typeof instance?.hasRoute === 'function') return instance.hasRoute({ method: 'GET', url: path });
    const stack = (instance?.router ?? instance?._router)?.stack;
    if (!Array.isArray(stack)) return false;
    return stack.some((layer) => {
      const route = (layer as { route?: { path?: unknown; methods?: Record<string, boolean> } }).route;
      return route?.path === path && (route.methods?.get === true || route.methods?._all === true);
    });
  }
}

/**
 * Sends a flow step over the platform's response (Express or Fastify): cookies, then
 * a 302 that no cache may keep.
 *
 * @internal
 */
export function send(adapterHost: HttpAdapterHost, response: unknown, step: FlowStep): void {
  const adapter = adapterHost.httpAdapter;
  for (const cookie of step.cookies) adapter.appendHeader(response, 'Set-Cookie', cookie);
  if (step.redirectTo === undefined) return;
  adapter.setHeader(response, 'Cache-Control', 'no-store');
  adapter.redirect(response, 302, step.redirectTo);
}
