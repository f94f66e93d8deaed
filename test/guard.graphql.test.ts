import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { CognitoAuthGuard, CognitoClaims, CognitoModule, Public, RequireGroups } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, get } from './support/app.js';
import { SessionHandler } from './support/guarded-app.js';
import { COOKIE_SECRET } from './support/module.js';

const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';

@Resolver()
class ProfileResolver {
  @Query('me')
  me(@CognitoClaims('username') username: string): string {
    return username;
  }

  @RequireGroups('admin')
  @Query('adminOnly')
  adminOnly(): string {
    return 'secret';
  }

  @Public()
  @Query('open')
  open(@CognitoClaims('username') username?: string): string {
    return username ?? 'anonymous';
  }
}

const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };

describe('CognitoAuthGuard in a GraphQL resolver (Apollo on Express)', () => {
  let cognito: LocalCognito;
  let app: INestApplication;
  let url: string;

  before(async () => {
    cognito = await LocalCognito.start({ users: [ALICE], clients: [{ clientId: 'webapp', redirectUris: [REDIRECT_URI] }] });
    @Module({
      imports: [
        CognitoModule.forRoot({ ...cognito.moduleOptions('webapp'), redirectUri: REDIRECT_URI, cookieSecret: COOKIE_SECRET, callbackHandler: SessionHandler }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          typeDefs: 'type Query { me: String, adminOnly: String, open: String }',
          context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
        }),
      ],
      providers: [ProfileResolver, { provide: APP_GUARD, useExisting: CognitoAuthGuard }],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    url = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/graphql`;
  });
  after(async () => {
    await app?.close();
    await cognito?.stop();
  });

  async function query(text: string, token?: string, headers: Record<string, string> = {}) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: text }),
    });
    return (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] };
  }

  it('resolves with the claims of a valid token', async () => {
    const result = await query('{ me }', await cognito.mintAccessToken({ username: 'gql-user' }));
    assert.deepEqual(result.data, { me: 'gql-user' });
  });

  it('refuses a query without a token', async () => {
    const result = await query('{ me }');
    assert.equal(result.data?.me ?? null, null);
    assert.equal(result.errors?.[0].message, 'No bearer token or session');
    assert.equal(result.errors?.[0].extensions?.code, 'UNAUTHENTICATED');
  });

  it('refuses a query when a required group is missing', async () => {
    const result = await query('{ adminOnly }', await cognito.mintAccessToken({ groups: ['staff'] }));
    assert.equal(result.errors?.[0].extensions?.code, 'FORBIDDEN');
    assert.deepEqual((await query('{ adminOnly }', await cognito.mintAccessToken({ groups: ['admin'] }))).data, { adminOnly: 'secret' });
  });

  it('opens a @Public resolver, with claims only for a valid token', async () => {
    assert.deepEqual((await query('{ open }')).data, { open: 'anonymous' });
    assert.deepEqual((await query('{ open }', await cognito.mintAccessToken({ username: 'erin' }))).data, { open: 'erin' });
  });

  it('applies the CSRF rule to GraphQL over HTTP with the session cookie', async () => {
    const base = url.replace(/\/graphql$/, '');
    const started = await get(`${base}/auth/login`);
    const redirect = await cognito.signIn(started.location!, ALICE);
    const finished = await get(`${base}${redirect.pathname}${redirect.search}`, cookiePairs(started.setCookies));
    const cookie = cookiePairs(finished.setCookies).join('; ');

    const crossSite = await query('{ me }', undefined, { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
    assert.equal(crossSite.data?.me ?? null, null);
    assert.match(crossSite.errors?.[0].message ?? '', /^Cross-site request refused/);
    assert.equal(crossSite.errors?.[0].extensions?.code, 'FORBIDDEN');

    assert.deepEqual((await query('{ me }', undefined, { cookie, 'sec-fetch-site': 'same-origin' })).data, { me: 'alice' });
    // A public resolver answers a cross-site request as for a visitor.
    assert.deepEqual((await query('{ open }', undefined, { cookie, 'sec-fetch-site': 'cross-site' })).data, { open: 'anonymous' });
  });
});
