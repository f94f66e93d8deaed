import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CognitoAuthGuard, CognitoModule, type CognitoModuleOptions } from '../lib/index.js';
import { ApiController } from './api.controller.js';
import { LoginHandler } from './login.handler.js';
import { PagesController } from './pages.controller.js';

@Module({})
export class AppModule {
  static register(cognito: CognitoModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [CognitoModule.forRoot({ ...cognito, callbackHandler: LoginHandler })],
      controllers: [PagesController, ApiController],
      // Deny by default: every route needs a Cognito token unless marked @Public().
      providers: [{ provide: APP_GUARD, useExisting: CognitoAuthGuard }],
    };
  }
}
