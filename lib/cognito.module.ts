import { Module } from '@nestjs/common';
import { CognitoConfigurableModule } from './cognito.module-definition.js';
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
export class CognitoModule extends CognitoConfigurableModule {}
