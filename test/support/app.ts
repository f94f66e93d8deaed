import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Req, Res, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  CognitoModule,
  CognitoSessionService,
  type CognitoCallbackContext,
  type CognitoCallbackHandler,
  type CognitoCallbackOutcome,
  type CognitoError,
  type CognitoLoginResult,
  type CognitoModuleOptions,
} from '../../lib/index.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** What the app's handler saw; a real provider from the app's own module. */
@Injectable()
export class LoginRecorder {
  successes: CognitoLoginResult[] = [];
  errors: CognitoError[] = [];
  /** Keep the tokens in session cookies after a login. */
  establishSession = false;
  /** Lets a test steer the handler. */
  behaviour: { onSuccess?: (result: CognitoLoginResult, ctx: CognitoCallbackContext) => CognitoCallbackOutcome | void; onError?: () => CognitoCallbackOutcome | void } = {};
}

@Module({ providers: [LoginRecorder], exports: [LoginRecorder] })
export class RecorderModule {}

@Injectable()
export class RecordingHandler implements CognitoCallbackHandler {
  constructor(
    private readonly recorder: LoginRecorder,
    private readonly session: CognitoSessionService,
  ) {}
  async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext) {
    this.recorder.successes.push(result);
    if (this.recorder.establishSession) await this.session.establish(ctx.response, result.tokens);
    return this.recorder.behaviour.onSuccess?.(result, ctx);
  }
  async onError(error: CognitoError) {
    this.recorder.errors.push(error);
    return this.recorder.behaviour.onError?.();
  }
}

@Controller()
class HomeController {
  constructor(private readonly session: CognitoSessionService) {}

  @Get('/')
  home() {
    return { page: 'home' };
  }

  /** Reports the session state; the session service refreshes it and re-issues cookies. */
  @Get('/me')
  async me(@Req() request: unknown, @Res({ passthrough: true }) response: unknown) {
    const state = await this.session.resume(request, response);
    if (state.status !== 'active') return { status: state.status };
    return { status: state.status, sub: state.accessToken.sub, username: state.accessToken.username, refreshed: state.refreshed, email: state.idToken?.email };
  }
}

/** Collects every log line, to prove no secret is ever written. */
export class CapturingLogger implements LoggerService {
  lines: string[] = [];
  log(message: unknown, ...rest: unknown[]) { this.lines.push([message, ...rest].map(String).join(' ')); }
  error(message: unknown, ...rest: unknown[]) { this.lines.push([message, ...rest].map(String).join(' ')); }
  warn(message: unknown, ...rest: unknown[]) { this.lines.push([message, ...rest].map(String).join(' ')); }
  debug(message: unknown, ...rest: unknown[]) { this.lines.push([message, ...rest].map(String).join(' ')); }
  verbose(message: unknown, ...rest: unknown[]) { this.lines.push([message, ...rest].map(String).join(' ')); }
}

export interface TestApp {
  app: INestApplication;
  url: string;
  recorder: LoginRecorder;
  logger: CapturingLogger;
  close(): Promise<void>;
}

/** A real Nest application with CognitoModule, listening on 127.0.0.1 port 0. */
export async function startApp(platform: Platform, options: CognitoModuleOptions): Promise<TestApp> {
  @Module({
    imports: [CognitoModule.forRoot({ ...options, imports: [RecorderModule], callbackHandler: RecordingHandler }), RecorderModule],
    controllers: [HomeController],
  })
  class AppModule {}

  const logger = new CapturingLogger();
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return { app, url, recorder: app.get(LoginRecorder), logger, close: () => app.close() };
}

/** A response from the app, never following redirects. */
export interface AppResponse {
  status: number;
  location: string | null;
  setCookies: string[];
  body: string;
}

export async function get(url: string, cookies: string[] = []): Promise<AppResponse> {
  const response = await fetch(url, { redirect: 'manual', headers: cookies.length ? { cookie: cookies.join('; ') } : {} });
  return { status: response.status, location: response.headers.get('location'), setCookies: response.headers.getSetCookie(), body: await response.text() };
}

/** `name=value` pairs of the cookies a response sets (not the ones it clears). */
export function cookiePairs(setCookies: string[]): string[] {
  return setCookies.filter((line) => !/max-age=0/i.test(line)).map((line) => line.split(';')[0]);
}
