import { CognitoError } from './cognito.error.js';

/**
 * The application's `CognitoCallbackHandler.onSuccess` threw. The original error
 * is kept as `cause` (this module logs only its name, since app errors may carry data).
 *
 * @publicApi
 */
export class CallbackHandlerError extends CognitoError {
  readonly code = 'ERR_CALLBACK_HANDLER_FAILED' as const;
  readonly reason = 'handler_failed';

  constructor(cause: unknown) {
    super('The application callback handler failed', { cause });
  }
}
