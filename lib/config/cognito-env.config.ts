import { registerAs } from '@nestjs/config';
import { COGNITO_ENV_NAMES, type CognitoModuleOptions } from './cognito-options.interface.js';

/**
 * Reads the module's options from environment variables, with the names the Django
 * package `django-cognito-lowlevel` used (see the README's settings table). Values
 * are passed on as found; `CognitoModule` checks them at startup.
 *
 * @publicApi
 */
export function cognitoOptionsFromEnv(env: Record<string, string | undefined> = process.env): Partial<CognitoModuleOptions> {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const options: Record<string, unknown> = {};
  for (const [option, name] of Object.entries(COGNITO_ENV_NAMES)) {
    const value = read(name);
    if (value !== undefined) options[option] = value;
  }
  // The Django package read this setting under a misspelled name; honour it for migrating apps.
  options.callbackPath ??= read('COGNIT_CALLBACK_URL_PATH');
  if (options.callbackPath === undefined) delete options.callbackPath;
  if (typeof options.cookieSecret === 'string') {
    const secrets = options.cookieSecret.split(',').map((secret) => secret.trim()).filter(Boolean);
    options.cookieSecret = secrets.length === 1 ? secrets[0] : secrets;
  }
  if (typeof options.scopes === 'string') options.scopes = options.scopes.split(/[\s,]+/).filter(Boolean);
  // Numbers stay strings here; the option checks accept digit strings and report anything else.
  return options as Partial<CognitoModuleOptions>;
}

/**
 * `@nestjs/config` namespace `cognito` built from the environment:
 *
 * ```ts
 * CognitoModule.forRootAsync({
 *   imports: [ConfigModule.forFeature(cognitoEnvConfig)],
 *   inject: [cognitoEnvConfig.KEY],
 *   useFactory: (options: ConfigType<typeof cognitoEnvConfig>) => options,
 *   callbackHandler: MyHandler,
 * });
 * ```
 *
 * @publicApi
 */
export const cognitoEnvConfig = registerAs('cognito', () => cognitoOptionsFromEnv(process.env) as CognitoModuleOptions);
