import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService, type ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  COGNITO_CALLBACK_HANDLER,
  CognitoConfigurationError,
  CognitoModule,
  cognitoEnvConfig,
  JwksVerifierService,
  TokenExchangeService,
  type CognitoModuleOptions,
} from '../lib/index.js';
import { get } from './support/app.js';
import { baseOptions, COOKIE_SECRET, NoopHandler } from './support/module.js';

const silent = { log() {}, error() {}, warn() {}, debug() {}, verbose() {} };

describe('CognitoModule', () => {
  it('forRootAsync reads the environment through @nestjs/config and mounts the routes it names', async () => {
    const env = {
      COGNITO_USER_POOL_ID: 'eu-west-2_TestPool1',
      COGNITO_CLIENT_ID: 'envclient',
      COGNITO_HOST: 'myapp.auth.eu-west-2.amazoncognito.com',
      COGNITO_REDIRECT_URL: 'https://app.example.com/accounts/cognito/callback',
      COGNITO_LOGIN_PATH: 'accounts/login',
      COGNITO_COOKIE_SECRET: COOKIE_SECRET,
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      @Module({
        imports: [
          CognitoModule.forRootAsync({
            imports: [ConfigModule.forFeature(cognitoEnvConfig)],
            inject: [cognitoEnvConfig.KEY],
            useFactory: (options: ConfigType<typeof cognitoEnvConfig>) => options,
            callbackHandler: NoopHandler,
          }),
        ],
      })
      class AppModule {}
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      await app.listen(0, '127.0.0.1');
      try {
        const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
        const login = await get(`${url}/accounts/login`);
        assert.equal(login.status, 302);
        const authorize = new URL(login.location!);
        assert.equal(authorize.origin, 'https://myapp.auth.eu-west-2.amazoncognito.com');
        assert.equal(authorize.searchParams.get('client_id'), 'envclient');
        const callback = await get(`${url}/accounts/cognito/callback?error=access_denied`);
        assert.equal(callback.status, 302);
        assert.equal(callback.location, '/?error=missing_state');
        assert.equal((await get(`${url}/auth/login`)).status, 404);
      } finally {
        await app.close();
      }
    } finally {
      process.env = saved;
    }
  });

  it('forRootAsync accepts useClass', async () => {
    @Injectable()
    class OptionsFactory {
      createCognitoOptions(): CognitoModuleOptions {
        return baseOptions({ clientId: 'fromclass' });
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [CognitoModule.forRootAsync({ useClass: OptionsFactory, callbackHandler: NoopHandler })],
    }).compile();
    assert.ok(moduleRef.get(TokenExchangeService));
    assert.ok(moduleRef.get(COGNITO_CALLBACK_HANDLER) instanceof NoopHandler);
  });

  it('forRootAsync({ isGlobal: true }) makes the services injectable in modules that do not import it', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly verifier: JwksVerifierService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ cognito: baseOptions() })] }),
        CognitoModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow<CognitoModuleOptions>('cognito'),
          callbackHandler: NoopHandler,
          isGlobal: true,
        }),
        FeatureModule,
      ],
    }).compile();
    assert.ok(moduleRef.get(Consumer).verifier instanceof JwksVerifierService);
  });

  it('is not global by default', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly verifier: JwksVerifierService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    await assert.rejects(
      Test.createTestingModule({ imports: [CognitoModule.forRoot({ ...baseOptions(), callbackHandler: NoopHandler }), FeatureModule] })
        .setLogger(silent)
        .compile(),
      /JwksVerifierService/,
    );
  });

  it('stops the application from booting with every option problem listed', async () => {
    @Module({ imports: [CognitoModule.forRoot({ ...baseOptions({ userPoolId: 'nope', redirectUri: 'http://app.example.com/cb' }), callbackHandler: NoopHandler })] })
    class AppModule {}
    const error = await NestFactory.create(AppModule, { logger: false, abortOnError: false }).catch((caught: unknown) => caught);
    assert.ok(error instanceof CognitoConfigurationError, String(error));
    assert.match(error.message, /userPoolId \(COGNITO_USER_POOL_ID\)/);
    assert.match(error.message, /redirectUri \(COGNITO_REDIRECT_URL\)/);
  });

  it('requires a callbackHandler, and says where it goes with forRootAsync', () => {
    assert.throws(() => CognitoModule.forRoot(baseOptions() as any), /callbackHandler is required: .*forRootAsync\(\{ imports, inject, useFactory, callbackHandler: LoginHandler \}\)/);
    assert.throws(
      () => CognitoModule.forRootAsync({ useFactory: () => ({ ...baseOptions(), callbackHandler: NoopHandler }) } as any),
      /It cannot come from the factory/,
    );
  });

  it('says that a callbackHandler returned by the factory belongs beside useFactory', async () => {
    @Module({
      imports: [CognitoModule.forRootAsync({ useFactory: () => ({ ...baseOptions(), callbackHandler: NoopHandler, isGlobal: true }) as any, callbackHandler: NoopHandler })],
    })
    class AppModule {}
    const error = await NestFactory.create(AppModule, { logger: false, abortOnError: false }).catch((caught: unknown) => caught);
    assert.ok(error instanceof CognitoConfigurationError, String(error));
    assert.match(error.message, /callbackHandler is not an option the factory can return: with forRootAsync, pass it beside useFactory/);
    assert.match(error.message, /isGlobal is not an option the factory can return/);
  });

  it('refuses, at compile time, callbackHandler, isGlobal or imports in what a forRootAsync factory returns', () => {
    // Each line fails to compile if the types accept it (tsc runs before these tests).
    const modules = [
      // @ts-expect-error callbackHandler belongs beside useFactory
      CognitoModule.forRootAsync({ useFactory: () => ({ ...baseOptions(), callbackHandler: NoopHandler }), callbackHandler: NoopHandler }),
      // @ts-expect-error isGlobal belongs beside useFactory
      CognitoModule.forRootAsync({ useFactory: async () => ({ ...baseOptions(), isGlobal: true }), callbackHandler: NoopHandler }),
      // @ts-expect-error imports belong beside useFactory
      CognitoModule.forRootAsync({ useFactory: () => ({ ...baseOptions(), imports: [] }), callbackHandler: NoopHandler }),
      // What the README shows compiles: the options from the factory, the module's shape beside it.
      CognitoModule.forRootAsync({ useFactory: () => baseOptions(), callbackHandler: NoopHandler, isGlobal: true, imports: [] }),
    ];
    assert.equal(modules.length, 4);
  });

  it('lets two applications in one process use different routes', async () => {
    const make = async (loginPath: string) => {
      @Module({ imports: [CognitoModule.forRoot({ ...baseOptions({ loginPath }), callbackHandler: NoopHandler })] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      await app.listen(0, '127.0.0.1');
      return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    };
    const first = await make('first/login');
    const second = await make('second/login');
    try {
      assert.equal((await get(`${first.url}/first/login`)).status, 302);
      assert.equal((await get(`${first.url}/second/login`)).status, 404);
      assert.equal((await get(`${second.url}/second/login`)).status, 302);
      assert.equal((await get(`${second.url}/first/login`)).status, 404);
    } finally {
      await first.app.close();
      await second.app.close();
    }
  });

  it('appends the reason to an error redirect that already has a query', async () => {
    @Module({ imports: [CognitoModule.forRoot({ ...baseOptions({ errorRedirect: '/login?from=cognito#top' }), callbackHandler: NoopHandler })] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    try {
      const response = await get(`${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/auth/callback`);
      assert.equal(response.location, '/login?from=cognito&error=missing_state#top');
    } finally {
      await app.close();
    }
  });
});
