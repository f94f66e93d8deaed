import { Module, type DynamicModule } from '@nestjs/common';
import { ASYNC_OPTIONS_TYPE, CognitoConfigurableModule } from './cognito.module-definition.js';
import type { CognitoModuleOptions } from './config/cognito-options.interface.js';
import { claimSingleBuild } from './single-build.js';

claimSingleBuild();

/**
 * Amazon Cognito Hosted UI login for NestJS.
 *
 * ```ts
 * CognitoModule.forRoot({ userPoolId, clientId, domain, redirectUri, cookieSecret, callbackHandler: LoginHandler })
 * ```
 *
 * @publicApi
 */
@Module({})
export class CognitoModule extends CognitoConfigurableModule {
  /**
   * `forRoot` with options that come from elsewhere (`@nestjs/config`): `useFactory` (with
   * `inject`), `useClass` or `useExisting`. `callbackHandler`, `isGlobal` and `imports` go beside
   * `useFactory`: the types refuse them in what the factory returns, since the module is built
   * before the factory runs.
   */
  static override forRootAsync(options: CognitoModuleAsyncOptions): DynamicModule {
    return super.forRootAsync(options);
  }
}

/** What a `forRootAsync` factory may return: the options, without the module's own shape. */
type FactoryOptions = CognitoModuleOptions & { callbackHandler?: never; isGlobal?: never; imports?: never };

/** @publicApi */
export type CognitoModuleAsyncOptions = Omit<typeof ASYNC_OPTIONS_TYPE, 'useFactory'> & {
  useFactory?: (...args: any[]) => FactoryOptions | Promise<FactoryOptions>;
};
