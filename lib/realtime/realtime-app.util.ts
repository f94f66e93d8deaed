import { CognitoConfigurationError } from '../errors/configuration.error.js';
import { RealtimeAuthService } from './realtime-auth.service.js';

/**
 * CognitoModule's realtime service, found in the application an adapter was created with.
 *
 * @internal
 */
export function realtimeAuthOf(app: unknown, adapterName: string): RealtimeAuthService {
  if (typeof (app as { get?: unknown } | undefined)?.get !== 'function') {
    throw new CognitoConfigurationError([`${adapterName} needs the Nest application: app.useWebSocketAdapter(new ${adapterName}(app))`]);
  }
  try {
    return (app as { get: (token: unknown, options: { strict: boolean }) => RealtimeAuthService }).get(RealtimeAuthService, { strict: false });
  } catch {
    throw new CognitoConfigurationError([`${adapterName} needs CognitoModule (CognitoModule.forRoot or forRootAsync) in the application`]);
  }
}
