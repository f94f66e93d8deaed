import { type DynamicModule, type INestApplication, Module, type NestApplicationOptions } from '@nestjs/common';
import { APP_GUARD, NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { CognitoAuthGuard, CognitoIoAdapter, CognitoModule, type CognitoModuleOptions } from '../lib/index.js';
import { ApiController } from './api.controller.js';
import { LiveGateway } from './live.gateway.js';
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
      providers: [{ provide: APP_GUARD, useExisting: CognitoAuthGuard }, LiveGateway],
    };
  }
}

/** The sample app on Express (or the given HTTP adapter), its WebSocket connections authenticated at the handshake. */
export async function createSampleApp(cognito: CognitoModuleOptions, httpAdapter?: AbstractHttpAdapter, options: NestApplicationOptions = {}): Promise<INestApplication> {
  const module = AppModule.register(cognito);
  const app = httpAdapter === undefined ? await NestFactory.create(module, options) : await NestFactory.create(module, httpAdapter, options);
  app.useWebSocketAdapter(new CognitoIoAdapter(app));
  return app;
}
