/**
 * The application `npm run bench` loads over HTTP, alone in its own process as in production:
 * the same app serves a route without a guard, one with a guard that allows everything (Nest's
 * own cost of running a guard) and one with CognitoAuthGuard, which takes a bearer token or the
 * session cookie. The parent passes the module options as JSON in BENCH_APP_OPTIONS and the
 * platform in BENCH_APP_PLATFORM (fastify or express), and gets the app's URL back as a message.
 * BENCH_APP_GATEWAY=1 adds a socket.io gateway (only then: socket.io looks at every HTTP request).
 * BENCH_APP_OPTIONS_B starts a second app in the same process with other module options (the
 * revocation case: one process, one JIT, so only the options differ), whose URL comes back as `urlB`.
 */
import 'reflect-metadata';
import { Body, Controller, Get, Injectable, Module, Post, Res, UseGuards } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CognitoAuthGuard, CognitoClaims, CognitoIoAdapter, CognitoModule, CognitoSessionService, type CognitoCallbackHandler, type CognitoModuleOptions } from '../lib/index.js';

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
  constructor(private readonly session: CognitoSessionService) {}

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

  /**
   * What the callback handler of an app does after a login: the session cookies for these
   * tokens, made by the module itself (the bench has no Hosted UI to sign in through).
   */
  @Post('bench/session')
  async establish(@Body() tokens: { accessToken: string; refreshToken: string }, @Res({ passthrough: true }) response: unknown) {
    await this.session.establish(response, { ...tokens, idToken: '', expiresIn: 3600, tokenType: 'Bearer' });
    return { ok: true };
  }
}

/**
 * With BENCH_APP_GATEWAY=1 (and CognitoIoAdapter): an open socket.io gateway whose two handlers
 * differ only by the guard. Connections bring a token at the handshake, verified once there.
 */
@WebSocketGateway({ namespace: 'bench' })
class BenchGateway {
  @SubscribeMessage('open')
  open() {
    return 'ok';
  }

  @UseGuards(CognitoAuthGuard)
  @SubscribeMessage('guarded')
  guarded(@CognitoClaims('sub') sub: string) {
    return sub === undefined ? 'no' : 'ok';
  }
}

const withGateway = process.env.BENCH_APP_GATEWAY === '1';

async function start(options: CognitoModuleOptions, gateway: boolean) {
  @Module({
    imports: [CognitoModule.forRoot({ ...options, callbackHandler: NoopHandler })],
    controllers: [BenchController],
    providers: [AllowAllGuard, ...(gateway ? [BenchGateway] : [])],
  })
  class BenchAppModule {}

  const adapter = process.env.BENCH_APP_PLATFORM === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(BenchAppModule, adapter, { logger: ['warn', 'error'] });
  if (gateway) app.useWebSocketAdapter(new CognitoIoAdapter(app));
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1') };
}

const first = await start(JSON.parse(process.env.BENCH_APP_OPTIONS ?? '{}') as CognitoModuleOptions, withGateway);
const second = process.env.BENCH_APP_OPTIONS_B === undefined ? undefined : await start(JSON.parse(process.env.BENCH_APP_OPTIONS_B) as CognitoModuleOptions, false);
process.send?.({ url: first.url, urlB: second?.url });
// The parent ends this process when it is done; losing the parent ends it too.
process.on('disconnect', () => void Promise.all([first.app.close(), second?.app.close()]).then(() => process.exit(0)));
process.on('message', (message) => {
  if (message === 'rss') process.send?.({ rss: process.memoryUsage().rss });
  if (message === 'heap') {
    // After a full collection (the parent starts this process with --expose-gc): what is still held.
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ heap: process.memoryUsage().heapUsed });
  }
});
