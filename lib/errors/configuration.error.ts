import { CognitoError } from './cognito.error.js';

/**
 * The module's options are invalid. Thrown while the application boots, listing
 * every problem at once.
 *
 * @publicApi
 */
export class CognitoConfigurationError extends CognitoError {
  readonly code = 'ERR_CONFIG_INVALID' as const;
  readonly reason = 'configuration_invalid';

  constructor(readonly problems: readonly string[]) {
    super(
      `CognitoModule is misconfigured (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
  }
}
