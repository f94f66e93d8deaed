import { type DynamicModule, Module } from '@nestjs/common';
import { CognitoModule, type CognitoModuleOptions } from '../lib/index.js';
import { LoginHandler } from './login.handler.js';
import { PagesController } from './pages.controller.js';

@Module({})
export class AppModule {
  static register(cognito: CognitoModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [CognitoModule.forRoot({ ...cognito, callbackHandler: LoginHandler })],
      controllers: [PagesController],
    };
  }
}
