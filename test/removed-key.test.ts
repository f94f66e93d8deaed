import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CognitoAuthGuard, CognitoClaims, CognitoError, CognitoModule, JwksVerifierService, type CognitoCallbackHandler } from '../lib/index.js';
import { baseOptions, compileCognito } from './support/module.js';
import { makeKey, mint, startJwksServer, type JwksServer, type SigningKey } from './support/tokens.js';

/**
 * A key removed from the pool's JWKS must stop working as soon as the module has seen the new
 * key set, by either way it refetches: the background refresh near the end of the cache
 * lifetime, or the refetch an unknown `kid` causes. That holds for a token already in the
 * verified-token cache (its entries are dropped when keys change), through the verifier and
 * through the guard's fast path for repeated bearer tokens.
 */

/** Seconds the key set is kept: the background refresh starts at 80 % of it (3.2 s). */
const CACHE_SECONDS = 4;

type Path = 'background refresh' | 'unknown-kid refetch';

/** Brings the module to see the new key set by one path or the other; `use` is a verification. */
async function refetchBy(path: Path, use: () => Promise<unknown>, newcomerToken: () => Promise<unknown>): Promise<void> {
  if (path === 'background refresh') {
    await sleep(CACHE_SECONDS * 800 + 150); // past 80 % of the lifetime, well before its end
    await use(); // a verification starts the refresh in the background and is still answered
    await sleep(300); // the refresh completes
  } else {
    await sleep(1100); // past the one-second cooldown since the first fetch
    await newcomerToken(); // a kid the module has not seen: refetch now
  }
}

describe('a signing key removed from the JWKS', () => {
  let stay: SigningKey;
  let leaving: SigningKey;
  let newcomer: SigningKey;
  before(() => {
    stay = makeKey('stays');
    leaving = makeKey('leaves');
    newcomer = makeKey('arrives');
  });

  for (const path of ['background refresh', 'unknown-kid refetch'] as Path[]) {
    for (const cached of [true, false]) {
      it(`stops working after the ${path}, ${cached ? 'though its token is in the verified-token cache' : 'for a token seen once'} (verifier)`, async () => {
        const server = await startJwksServer([stay, leaving]);
        try {
          const verifier = (await compileCognito({ issuer: server.issuer, jwksCacheTimeout: CACHE_SECONDS, jwksCooldownSeconds: path === 'background refresh' ? 600 : 1 })).get(JwksVerifierService);
          const token = await mint(leaving, server.issuer, 'access');
          for (let i = 0; i < (cached ? 3 : 1); i++) await verifier.verifyAccessToken(token);
          server.setKeys([stay.jwk, newcomer.jwk]);
          const fetches = server.requests.length;

          await refetchBy(
            path,
            async () => verifier.verifyAccessToken(cached ? token : await mint(stay, server.issuer, 'access')),
            async () => verifier.verifyAccessToken(await mint(newcomer, server.issuer, 'access')),
          );
          assert.equal(server.requests.length, fetches + 1, 'the new key set was fetched once');

          const outcome = await verifier.verifyAccessToken(token).then(
            () => 'accepted',
            (error: CognitoError) => error.code,
          );
          assert.equal(outcome, 'ERR_JWKS_NO_MATCHING_KEY');
          // The key that stayed still works, cached or not.
          await verifier.verifyAccessToken(await mint(stay, server.issuer, 'access'));
        } finally {
          await server.close();
        }
      });
    }
  }

  describe("through the guard's fast path (a repeated bearer token)", () => {
    @Controller()
    class MeController {
      @Get('me')
      me(@CognitoClaims('sub') sub: string) {
        return { sub };
      }
    }
    @Injectable()
    class NoopHandler implements CognitoCallbackHandler {
      onSuccess(): void {}
    }

    let server: JwksServer;
    let app: INestApplication;
    let url: string;
    async function start(cooldownSeconds: number) {
      server = await startJwksServer([stay, leaving]);
      @Module({
        imports: [
          CognitoModule.forRoot({
            ...baseOptions({ issuer: server.issuer, jwksCacheTimeout: CACHE_SECONDS, jwksCooldownSeconds: cooldownSeconds }),
            callbackHandler: NoopHandler,
          }),
        ],
        controllers: [MeController],
        providers: [{ provide: APP_GUARD, useExisting: CognitoAuthGuard }],
      })
      class AppModule {}
      app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false, abortOnError: false });
      await app.listen(0, '127.0.0.1');
      url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
    }
    const status = async (token: string) => (await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    after(async () => {
      await app?.close();
      await server?.close();
    });

    for (const path of ['background refresh', 'unknown-kid refetch'] as Path[]) {
      it(`answers 401 after the ${path}`, async () => {
        await app?.close();
        await server?.close();
        await start(path === 'background refresh' ? 600 : 1);
        const token = await mint(leaving, server.issuer, 'access');
        for (let i = 0; i < 3; i++) assert.equal(await status(token), 200); // now answered from the cache
        server.setKeys([stay.jwk, newcomer.jwk]);
        await refetchBy(
          path,
          () => status(token),
          async () => status(await mint(newcomer, server.issuer, 'access')),
        );
        assert.equal(await status(token), 401);
        assert.equal(await status(await mint(stay, server.issuer, 'access')), 200);
      });
    }
  });
});
