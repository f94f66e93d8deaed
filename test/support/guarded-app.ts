import 'reflect-metadata';
import { Injectable, Module, type INestApplication, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  CognitoAuthGuard,
  CognitoModule,
  CognitoSessionService,
  type CognitoCallbackContext,
  type CognitoCallbackHandler,
  type CognitoLoginResult,
  type CognitoModuleOptions,
} from '../../lib/index.js';
import type { Platform } from './app.js';

/** The handler most apps write: a login establishes the session cookies. */
@Injectable()
export class SessionHandler implements CognitoCallbackHandler {
  constructor(private readonly session: CognitoSessionService) {}
  async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext) {
    await this.session.establish(ctx.response, result.tokens);
  }
}

/**
 * A real Nest app with CognitoModule, `SessionHandler`, the given controllers and
 * CognitoAuthGuard as the global guard, listening on 127.0.0.1 port 0.
 */
export async function startGuardedApp(platform: Platform, options: CognitoModuleOptions, controllers: Type[]): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [CognitoModule.forRoot({ ...options, callbackHandler: SessionHandler })],
    controllers,
    providers: [{ provide: APP_GUARD, useExisting: CognitoAuthGuard }],
  })
  class GuardedAppModule {}
  const app = await NestFactory.create(GuardedAppModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1') };
}
