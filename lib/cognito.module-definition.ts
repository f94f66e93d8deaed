import { HttpModule } from '@nestjs/axios';
import { ConfigurableModuleBuilder, type DynamicModule, type ModuleMetadata, type Provider, type Type } from '@nestjs/common';
import { COGNITO_CALLBACK_HANDLER, COGNITO_CONFIG, COGNITO_ROUTES } from './cognito.constants.js';
import type { CognitoConfig } from './config/cognito-config.js';
import type { CognitoModuleOptions } from './config/cognito-options.interface.js';
import { resolveCognitoConfig } from './config/resolve-cognito-config.js';
import { CognitoConfigurationError } from './errors/configuration.error.js';
import { CognitoHttpClient } from './http/cognito-http.client.js';
import { CookieSealer } from './http/cookie-sealer.js';
import type { CognitoCallbackHandler } from './login/cognito-callback-handler.interface.js';
import { LoginFlowService } from './login/login-flow.service.js';
import { createCognitoControllers } from './cognito.controllers.js';
import { COGNITO_MODULE_CLASS, CognitoRoutes } from './cognito.routes.js';
import { LoginStateService } from './login/login-state.service.js';
import { CognitoAuthGuard } from './guards/cognito-auth.guard.js';
import { CognitoSessionService } from './session/cognito-session.service.js';
import { RefreshCoordinator } from './session/refresh-coordinator.js';
import { SessionStore } from './session/session-store.js';
import { RedisSessionStore } from './session/redis-session-store.js';
import { RedisLink } from './fleet/redis-link.js';
import { RevocationList } from './fleet/revocation-list.js';
import { FleetRefresh } from './fleet/fleet-refresh.js';
import { JwksVerifierService } from './tokens/jwks-verifier.service.js';
import { TokenExchangeService } from './tokens/token-exchange.service.js';
import { RealtimeAuthService } from './realtime/realtime-auth.service.js';
import { COGNITO_REALTIME_PEERS } from './cognito.constants.js';
import { loadRealtimePeers } from './realtime/realtime-peers.js';
import './realtime/cognito-io.adapter.js';
import './realtime/cognito-ws.adapter.js';

/**
 * Options that shape the module itself rather than configure it, so they are known
 * before async options resolve: they sit beside the options in `forRoot` and beside
 * `useFactory` in `forRootAsync`.
 *
 * @publicApi
 */
export interface CognitoModuleExtras {
  /** The application's `CognitoCallbackHandler` class; its dependencies come from `imports`. */
  callbackHandler: Type<CognitoCallbackHandler>;
  /** Register the module globally, so its services (`TokenExchangeService`, `JwksVerifierService`, `CognitoSessionService`) inject anywhere. @default false */
  isGlobal?: boolean;
  /** Modules that provide the handler's dependencies (with `forRootAsync`, `imports` serves both). */
  imports?: ModuleMetadata['imports'];
}

const DEFAULT_EXTRAS: CognitoModuleExtras = { callbackHandler: undefined as unknown as Type<CognitoCallbackHandler>, isGlobal: false, imports: [] };

export const {
  ConfigurableModuleClass: CognitoConfigurableModule,
  MODULE_OPTIONS_TOKEN: COGNITO_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CognitoModuleOptions>({ moduleName: 'Cognito' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCognitoOptions')
  .setExtras(DEFAULT_EXTRAS, buildModule)
  .build();

function buildModule(definition: DynamicModule, extras: CognitoModuleExtras): DynamicModule {
  if (typeof extras.callbackHandler !== 'function') {
    throw new CognitoConfigurationError([
      'callbackHandler is required: pass the class that implements CognitoCallbackHandler beside the options, ' +
        '`forRoot({ …, callbackHandler: LoginHandler })`, or with forRootAsync beside useFactory, ' +
        '`forRootAsync({ imports, inject, useFactory, callbackHandler: LoginHandler })`. ' +
        'It cannot come from the factory: the module is built before the factory runs',
    ]);
  }
  const routes = createCognitoControllers();
  const providers: Provider[] = [
    ...(definition.providers ?? []),
    { provide: COGNITO_CONFIG, useFactory: resolveCognitoConfig, inject: [COGNITO_MODULE_OPTIONS] },
    {
      provide: COGNITO_ROUTES,
      useFactory: (config: CognitoConfig) => routes.applyPaths(config),
      inject: [COGNITO_CONFIG],
    },
    { provide: COGNITO_MODULE_CLASS, useValue: definition.module },
    CognitoRoutes,
    { provide: COGNITO_CALLBACK_HANDLER, useClass: extras.callbackHandler },
    CognitoHttpClient,
    CookieSealer,
    JwksVerifierService,
    TokenExchangeService,
    LoginStateService,
    LoginFlowService,
    RedisLink,
    RevocationList,
    FleetRefresh,
    {
      provide: SessionStore,
      useFactory: (config: CognitoConfig, sealer: CookieSealer, link: RedisLink) =>
        config.sessionStore === 'redis' ? new RedisSessionStore(config, sealer, link) : new SessionStore(config, sealer),
      inject: [COGNITO_CONFIG, CookieSealer, RedisLink],
    },
    RefreshCoordinator,
    CognitoSessionService,
    RealtimeAuthService,
    // Before NestFactory.create() returns: the WebSocket adapters' base classes, if installed.
    { provide: COGNITO_REALTIME_PEERS, useFactory: loadRealtimePeers },
    CognitoAuthGuard,
  ];
  return {
    ...definition,
    global: extras.isGlobal ?? false,
    imports: [...(definition.imports ?? []), ...(extras.imports ?? []), HttpModule.register({})],
    controllers: routes.controllers,
    providers,
    exports: [TokenExchangeService, JwksVerifierService, CognitoSessionService, CognitoAuthGuard, RealtimeAuthService, COGNITO_CONFIG],
  };
}
