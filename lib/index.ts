export { CognitoModule, type CognitoModuleAsyncOptions } from './cognito.module.js';
export { COGNITO_MODULE_OPTIONS, type CognitoModuleExtras } from './cognito.module-definition.js';
export { COGNITO_CALLBACK_HANDLER } from './cognito.constants.js';
export { COGNITO_ENV_NAMES, type CognitoModuleOptions, type CognitoRedisClient } from './config/cognito-options.interface.js';
export { cognitoEnvConfig, cognitoOptionsFromEnv } from './config/cognito-env.config.js';
export type {
  CognitoCallbackContext,
  CognitoCallbackHandler,
  CognitoCallbackOutcome,
  CognitoLoginResult,
} from './login/cognito-callback-handler.interface.js';
export { TokenExchangeService, type ExchangeCodeParams } from './tokens/token-exchange.service.js';
export { JwksVerifierService, type VerifyIdTokenOptions, type VerifyOptions } from './tokens/jwks-verifier.service.js';
export { CognitoAuthGuard, type CognitoRequestAuth } from './guards/cognito-auth.guard.js';
export { CognitoClaims, Public, RequireGroups, RequireScopes, TokenUse, type RequirementOptions } from './guards/auth.decorators.js';
export { CognitoSessionService } from './session/cognito-session.service.js';
export { CognitoIoAdapter } from './realtime/cognito-io.adapter.js';
export { CognitoWsAdapter } from './realtime/cognito-ws.adapter.js';
export { COGNITO_REFRESH_EVENT, type CognitoRefreshReply } from './realtime/realtime-auth.service.js';
export { CognitoRealtimeRefusal, cognitoSocketAuth, type CognitoRealtimeErrorCode, type CognitoSocketAuth } from './realtime/socket-auth.js';
export type { CognitoSessionState } from './session/cognito-session.interface.js';
export type {
  CognitoAccessTokenClaims,
  CognitoClientCredentialsToken,
  CognitoBaseClaims,
  CognitoIdTokenClaims,
  CognitoTokenSet,
  CognitoTokenUse,
} from './tokens/cognito-claims.interface.js';
export { CognitoError, type CognitoErrorCode } from './errors/cognito.error.js';
export { CognitoConfigurationError } from './errors/configuration.error.js';
export { LoginFlowError, type LoginFlowErrorCode } from './errors/login-flow.error.js';
export { AuthorizationResponseError } from './errors/authorization-response.error.js';
export { TokenEndpointError, type TokenEndpointErrorCode } from './errors/token-endpoint.error.js';
export { JwtVerificationError, type JwtVerificationErrorCode } from './errors/jwt-verification.error.js';
export { JwksNoMatchingKeyError, JwksUnavailableError } from './errors/jwks.error.js';
export { CallbackHandlerError } from './errors/callback-handler.error.js';
export { UnexpectedLoginError } from './errors/unexpected-login.error.js';
export { CrossSiteRequestError } from './errors/cross-site-request.error.js';
export { RedisUnavailableError } from './errors/redis-unavailable.error.js';
