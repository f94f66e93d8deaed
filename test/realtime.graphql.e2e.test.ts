import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Module, UseGuards, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver, Subscription } from '@nestjs/graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CognitoAuthGuard, CognitoClaims, CognitoModule, RequireGroups } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { loginThroughApp } from './support/app.js';
import { SessionHandler } from './support/guarded-app.js';
import { COOKIE_SECRET } from './support/module.js';

const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };

@Resolver()
class LiveResolver {
  @Query('ok')
  ok(): string {
    return 'ok';
  }

  @UseGuards(CognitoAuthGuard)
  @Subscription('whoami')
  whoami(@CognitoClaims('username') username: string) {
    return (async function* () {
      yield { whoami: username };
    })();
  }

  @UseGuards(CognitoAuthGuard)
  @RequireGroups('admin')
  @Subscription('adminFeed')
  adminFeed() {
    return (async function* () {
      yield { adminFeed: 'for admins' };
    })();
  }
}

interface Outcome {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string }[];
}

describe('GraphQL subscriptions over graphql-ws (Apollo on Express)', () => {
  let cognito: LocalCognito;
  let app: INestApplication;
  let url: string;
  const clients: Client[] = [];

  before(async () => {
    cognito = await LocalCognito.start({ users: [ALICE], clients: [{ clientId: 'webapp', redirectUris: [REDIRECT_URI] }] });
    @Module({
      imports: [
        CognitoModule.forRoot({ ...cognito.moduleOptions('webapp'), redirectUri: REDIRECT_URI, cookieSecret: COOKIE_SECRET, callbackHandler: SessionHandler }),
        // The configuration the README gives: no onConnect hook, a context that passes on what the transport gives.
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          typeDefs: 'type Query { ok: String } type Subscription { whoami: String, adminFeed: String }',
          subscriptions: { 'graphql-ws': true },
          context: ({ req, connectionParams, extra }: { req?: unknown; connectionParams?: unknown; extra?: { request?: unknown } }) => ({ req: req ?? extra?.request, connectionParams }),
        }),
      ],
      providers: [LiveResolver],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  });
  after(async () => {
    for (const client of clients) await client.dispose();
    await app?.close();
    await cognito?.stop();
  });

  /** The first result of a subscription, with connectionParams and upgrade headers of our choosing. */
  function subscribe(query: string, connectionParams?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Outcome> {
    class WebSocketWithHeaders extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    }
    const client = createClient({ url: `${url.replace('http:', 'ws:')}/graphql`, webSocketImpl: WebSocketWithHeaders, connectionParams, retryAttempts: 0, lazy: true });
    clients.push(client);
    return new Promise((resolve, reject) => {
      const stop = client.subscribe<Record<string, unknown>>(
        { query },
        {
          next: (result) => {
            resolve({ data: result.data, errors: result.errors as Outcome['errors'] });
            stop();
          },
          error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
          complete: () => undefined,
        },
      );
    });
  }

  it('takes the token from connectionParams (authorization or token), and the resolver sees its claims', async () => {
    const token = await cognito.mintAccessToken({ username: 'sub-user' });
    assert.deepEqual((await subscribe('subscription { whoami }', { authorization: `Bearer ${token}` })).data, { whoami: 'sub-user' });
    assert.deepEqual((await subscribe('subscription { whoami }', { token })).data, { whoami: 'sub-user' });
  });

  it('refuses a subscription without a token, with an expired one, or without the group', async () => {
    const none = await subscribe('subscription { whoami }');
    assert.equal(none.data ?? null, null);
    assert.match(none.errors?.[0]?.message ?? '', /No bearer token or session/);
    const expired = await subscribe('subscription { whoami }', { token: await cognito.mintAccessToken({ expiresInSeconds: -60 }) });
    assert.match(expired.errors?.[0]?.message ?? '', /expired/i);
    const staff = await subscribe('subscription { adminFeed }', { token: await cognito.mintAccessToken({ groups: ['staff'] }) });
    assert.match(staff.errors?.[0]?.message ?? '', /group/);
    const admin = await subscribe('subscription { adminFeed }', { token: await cognito.mintAccessToken({ groups: ['admin'] }) });
    assert.deepEqual(admin.data, { adminFeed: 'for admins' });
  });

  it("takes the session cookie of the upgrade request from the app's own origin, never from another site", async () => {
    const cookie = await loginThroughApp(cognito, url, ALICE);
    assert.deepEqual((await subscribe('subscription { whoami }', undefined, { cookie, origin: 'http://127.0.0.1:3000' })).data, { whoami: 'alice' });
    const crossSite = await subscribe('subscription { whoami }', undefined, { cookie, origin: 'https://evil.example' });
    assert.match(crossSite.errors?.[0]?.message ?? '', /Cross-site/);
  });
});
