import 'reflect-metadata';
import assert from 'node:assert/strict';
import { Controller, Get, Injectable, Module, Req, Res, type INestApplication, type LoggerService, type ModuleMetadata, type Provider, type Type } from '@nestjs/common';
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
import type { LocalCognito } from '../../lib/testing/index.js';
import { COOKIE_SECRET } from './module.js';

/** The local Cognito's app client, at the app's registered callback URL (tests replay Cognito's redirect onto the real port). */
export function localOptions(cognito: LocalCognito, redirectUri: string, overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions {
  return { ...cognito.moduleOptions('webapp'), redirectUri, cookieSecret: COOKIE_SECRET, successRedirect: '/welcome', errorRedirect: '/login-error', ...overrides };
}

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
  behaviour: { onSuccess?: (result: CognitoLoginResult, ctx: CognitoCallbackContext) => CognitoCallbackOutcome | void; onError?: (error: CognitoError, ctx: CognitoCallbackContext) => CognitoCallbackOutcome | void } = {};
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
    for (const token of [result.tokens.idToken, result.tokens.accessToken, result.tokens.refreshToken]) if (token) witness.secrets.add(token);
    if (this.recorder.establishSession) await this.session.establish(ctx.response, result.tokens);
    return this.recorder.behaviour.onSuccess?.(result, ctx);
  }
  async onError(error: CognitoError, ctx: CognitoCallbackContext) {
    this.recorder.errors.push(error);
    return this.recorder.behaviour.onError?.(error, ctx);
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

/**
 * Everything secret a test file saw (codes, tokens, cookie values, client secrets) and every
 * log line written, so the file can prove at the end that none of the former is in the latter.
 */
export const witness = {
  secrets: new Set<string>(),
  lines: [] as string[],
  assertNoSecretLogged(): void {
    const log = witness.lines.join('\n');
    assert.ok(witness.lines.length > 0 && witness.secrets.size > 0, 'nothing was witnessed');
    for (const secret of witness.secrets) if (secret.length >= 8) assert.ok(!log.includes(secret), 'a secret value reached the log');
  },
};

/** Collects every log line, to prove no secret is ever written. */
export class CapturingLogger implements LoggerService {
  lines: string[] = [];
  private push(line: string): void {
    this.lines.push(line);
    witness.lines.push(line);
  }
  log(message: unknown, ...rest: unknown[]) { this.push([message, ...rest].map(describe).join(' ')); }
  error(message: unknown, ...rest: unknown[]) { this.push([message, ...rest].map(describe).join(' ')); }
  warn(message: unknown, ...rest: unknown[]) { this.push([message, ...rest].map(describe).join(' ')); }
  debug(message: unknown, ...rest: unknown[]) { this.push([message, ...rest].map(describe).join(' ')); }
  verbose(message: unknown, ...rest: unknown[]) { this.push([message, ...rest].map(describe).join(' ')); }
}

function describe(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}\n${value.stack}` : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export interface TestApp {
  app: INestApplication;
  url: string;
  recorder: LoginRecorder;
  logger: CapturingLogger;
  close(): Promise<void>;
}

/** A real Nest application with CognitoModule, listening on 127.0.0.1 port 0. */
/** How a test shapes the app around the module, as apps do in main.ts and their root module. */
export interface AppSetup {
  /** Called before the app listens: a global prefix, versioning. */
  configure?(app: INestApplication): void;
  /** More imports of the root module (a RouterModule), and more controllers. */
  imports?: ModuleMetadata['imports'];
  controllers?: Type[];
  /** More providers of the root module (a gateway). */
  providers?: Provider[];
}

export async function startApp(platform: Platform, options: CognitoModuleOptions, setup: AppSetup = {}): Promise<TestApp> {
  if (options.clientSecret) witness.secrets.add(options.clientSecret);
  for (const secret of [options.cookieSecret].flat()) witness.secrets.add(secret);
  @Module({
    imports: [CognitoModule.forRoot({ ...options, imports: [RecorderModule], callbackHandler: RecordingHandler }), RecorderModule, ...(setup.imports ?? [])],
    controllers: [HomeController, ...(setup.controllers ?? [])],
    providers: setup.providers ?? [],
  })
  class AppModule {}

  const logger = new CapturingLogger();
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger, abortOnError: false });
  setup.configure?.(app);
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

/** A browser's own navigation within the app (a link on one of its pages). */
export const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' } as const;

export async function get(url: string, cookies: string[] = [], headers: Record<string, string> = {}, method = 'GET'): Promise<AppResponse> {
  const code = new URL(url).searchParams.get('code');
  if (code) witness.secrets.add(code);
  const response = await fetch(url, { method, redirect: 'manual', headers: { ...headers, ...(cookies.length ? { cookie: cookies.join('; ') } : {}) } });
  for (const line of response.headers.getSetCookie()) {
    const value = line.split(';')[0].split('=').slice(1).join('=');
    if (value) witness.secrets.add(value);
  }
  return { status: response.status, location: response.headers.get('location'), setCookies: response.headers.getSetCookie(), body: await response.text() };
}

/** `name=value` pairs of the cookies a response sets (not the ones it clears). */
export function cookiePairs(setCookies: string[]): string[] {
  return setCookies.filter((line) => !/max-age=0/i.test(line)).map((line) => line.split(';')[0]);
}

/**
 * A real login through the app at `url`, as a browser does it (login route, Hosted UI form,
 * callback): the session cookies the browser then keeps, as one Cookie header.
 */
export async function loginThroughApp(cognito: LocalCognito, url: string, user: { username: string; password: string }): Promise<string> {
  const started = await fetch(`${url}/auth/login`, { redirect: 'manual' });
  const redirect = await cognito.signIn(started.headers.get('location')!, user);
  const finished = await fetch(`${url}${redirect.pathname}${redirect.search}`, { redirect: 'manual', headers: { cookie: cookiePairs(started.headers.getSetCookie()).join('; ') } });
  return cookiePairs(finished.headers.getSetCookie()).join('; ');
}
