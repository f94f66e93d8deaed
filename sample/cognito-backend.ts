import { randomBytes } from 'node:crypto';
import { cognitoOptionsFromEnv, type CognitoModuleOptions } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';

/** The sample's pages; the environment may override them. */
const SAMPLE_ROUTES = { successRedirect: '/me', errorRedirect: '/login-error', sessionIncludeIdToken: true };

export const DEMO_USER = { username: 'alice', password: 'alice-password', email: 'alice@example.com', groups: ['admin'] };

/**
 * Real Cognito when `COGNITO_USER_POOL_ID` is set (all settings from the environment),
 * otherwise a local Cognito on 127.0.0.1 with one demo user.
 */
export async function chooseCognito(
  appUrl: string,
): Promise<{ options: CognitoModuleOptions; description: string; local?: LocalCognito; stop(): Promise<void> }> {
  if (process.env.COGNITO_USER_POOL_ID) {
    const options = { ...SAMPLE_ROUTES, ...cognitoOptionsFromEnv(process.env) } as CognitoModuleOptions;
    return { options, description: `user pool ${options.userPoolId} via ${options.domain}`, stop: async () => {} };
  }
  const redirectUri = `${appUrl}/auth/callback`;
  const logoutUri = `${appUrl}/signed-out`;
  const cognito = await LocalCognito.start({
    users: [DEMO_USER],
    clients: [{ clientId: 'sampleapp', clientSecret: randomBytes(24).toString('base64url'), redirectUris: [redirectUri], logoutUris: [logoutUri] }],
  });
  return {
    options: {
      ...cognito.moduleOptions('sampleapp'),
      redirectUri,
      logoutUri,
      cookieSecret: randomBytes(32).toString('base64url'),
      ...SAMPLE_ROUTES,
    },
    description: `local Cognito at ${cognito.url} (user "${DEMO_USER.username}", password "${DEMO_USER.password}")`,
    local: cognito,
    stop: () => cognito.stop(),
  };
}
