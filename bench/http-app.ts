/**
 * The application `npm run bench` loads over HTTP, alone in its own process as in production:
 * the same app serves a route without a guard, one with a guard that allows everything (Nest's
 * own cost of running a guard) and one with CognitoAuthGuard. The parent passes the module
 * options as JSON in BENCH_APP_OPTIONS and gets the app's URL back as a message.
 */
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CognitoAuthGuard, CognitoModule, type CognitoCallbackHandler, type CognitoModuleOptions } from '../lib/index.js';

@Injectable()
class NoopHandler implements CognitoCallbackHandler {
  onSuccess(): void {}
}

@Injectable()
class AllowAllGuard {
  canActivate(): boolean {
    return true;
  }
}

@Controller()
class BenchController {
  @Get('unguarded')
  unguarded() {
    return { ok: true };
  }

  @UseGuards(AllowAllGuard)
  @Get('noop-guard')
  noopGuard() {
    return { ok: true };
  }

  @UseGuards(CognitoAuthGuard)
  @Get('guarded')
  guarded() {
    return { ok: true };
  }
}

const options = JSON.parse(process.env.BENCH_APP_OPTIONS ?? '{}') as CognitoModuleOptions;

@Module({ imports: [CognitoModule.forRoot({ ...options, callbackHandler: NoopHandler })], controllers: [BenchController], providers: [AllowAllGuard] })
class BenchAppModule {}

const app = await NestFactory.create(BenchAppModule, new FastifyAdapter(), { logger: ['warn', 'error'] });
await app.listen(0, '127.0.0.1');
process.send?.({ url: (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1') });
// The parent ends this process when it is done; losing the parent ends it too.
process.on('disconnect', () => void app.close().then(() => process.exit(0)));
process.on('message', (message) => {
  if (message === 'rss') process.send?.({ rss: process.memoryUsage().rss });
});
