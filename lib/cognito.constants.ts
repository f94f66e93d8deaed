/**
 * Injection token of the application's `CognitoCallbackHandler`, registered from the
 * `callbackHandler` option: `@Inject(COGNITO_CALLBACK_HANDLER) handler: CognitoCallbackHandler`.
 *
 * @publicApi
 */
export const COGNITO_CALLBACK_HANDLER = 'COGNITO:CALLBACK_HANDLER';

/** The checked configuration (`CognitoConfig`). @internal */
export const COGNITO_CONFIG = 'COGNITO:CONFIG';

/** Resolves once the login and callback routes have their configured paths. @internal */
export const COGNITO_ROUTES = 'COGNITO:ROUTES';

/** Resolves once the installed WebSocket packages are loaded (the adapters' base classes). @internal */
export const COGNITO_REALTIME_PEERS = 'COGNITO:REALTIME_PEERS';
