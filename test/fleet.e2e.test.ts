import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Redis } from 'ioredis';
import { CognitoAuthGuard, CognitoClaims, CognitoIoAdapter, CognitoSessionService, type CognitoModuleOptions } from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { cookiePairs, get, localOptions, SAME_ORIGIN, startApp, type Platform, type TestApp } from './support/app.js';
import { ioAsk, ioConnect } from './support/realtime.js';
import { TestRedis } from './support/redis.js';

/**
 * A fleet: three real Nest apps (Express, Fastify, Express), each with its own connections to one
 * real redis-server of the test's own, sharing the cookie secret, against the local Cognito.
 */
const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };
const BOB = { username: 'bob', password: 'battery staple horse', email: 'bob@example.com' };
/** Tokens live 60 s; with a 57 s margin a session needs refreshing 3 s after login. */
const LIFETIME = 60;
const MARGIN = 57;
const PLATFORMS: Platform[] = ['express', 'fastify', 'express'];

@Controller()
class GuardedController {
  @UseGuards(CognitoAuthGuard)
  @Get('guarded')
  guarded(@CognitoClaims('sub') sub: string) {
    return { sub };
  }
}

@UseGuards(CognitoAuthGuard)
@WebSocketGateway({ namespace: 'live' })
class LiveGateway {
  @SubscribeMessage('whoami')
  whoami(@CognitoClaims('sub') sub: string) {
    return sub;
  }
}

interface Login {
  /** The browser's Cookie header. */
  cookie: string;
  accessToken: string;
  sub: string;
}

describe('a fleet of instances sharing Redis', () => {
  let cognito: LocalCognito;
  let redis: TestRedis;
  let fleet: TestApp[] = [];
  /** Each test's fleet has keys of its own in the one Redis (`keyPrefix`). */
  let prefix = '';
  let fleets = 0;

  before(async () => {
    redis = await TestRedis.start();
    cognito = await LocalCognito.start({
      users: [ALICE, BOB],
      clients: [{ clientId: 'webapp', redirectUris: [REDIRECT_URI] }],
      tokenLifetimeSeconds: LIFETIME,
      rotateRefreshTokens: true,
    });
  });
  after(async () => {
    await cognito.stop();
    await redis.stop();
  });
  afterEach(async () => {
    await Promise.all(fleet.map((app) => app.close()));
    fleet = [];
  });

  const options = (overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions => localOptions(cognito, REDIRECT_URI, { redisUrl: redis.url, keyPrefix: prefix, ...overrides });

  async function startFleet(overrides: Partial<CognitoModuleOptions> = {}): Promise<TestApp[]> {
    prefix = `fleet${++fleets}:`;
    const setup = { controllers: [GuardedController], providers: [LiveGateway], configure: (app: TestApp['app']) => app.useWebSocketAdapter(new CognitoIoAdapter(app)) };
    fleet = await Promise.all(PLATFORMS.map((platform) => startApp(platform, options(overrides), setup)));
    for (const app of fleet) app.recorder.establishSession = true;
    return fleet;
  }

  async function login(app: TestApp, user = ALICE): Promise<Login> {
    const started = await get(`${app.url}/auth/login`);
    const redirect = await cognito.signIn(started.location!, user);
    const finished = await get(`${app.url}${redirect.pathname}${redirect.search}`, cookiePairs(started.setCookies));
    assert.equal(finished.location, '/welcome');
    const { accessToken } = app.recorder.successes.at(-1)!.tokens;
    const sub = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()).sub as string;
    return { cookie: cookiePairs(finished.setCookies).join('; '), accessToken, sub };
  }

  const withCookie = (app: TestApp, cookie: string) => get(`${app.url}/guarded`, [cookie]);
  const withBearer = (app: TestApp, token: string) => get(`${app.url}/guarded`, [], { authorization: `Bearer ${token}` });

  /** Polls until `check` holds; returns the milliseconds it took, or fails after `withinMs`. */
  async function within(withinMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (await check()) return Date.now() - started;
      if (Date.now() - started > withinMs) assert.fail(`${what}: not within ${withinMs} ms`);
      await sleep(25);
    }
  }

  it('a logout on A is refused by B and C, cookie and bearer token, within a second', async () => {
    const [a, b, c] = await startFleet();
    const alice = await login(a);
    for (const app of [b, c]) {
      assert.equal((await withCookie(app, alice.cookie)).status, 200);
      assert.equal((await withBearer(app, alice.accessToken)).status, 200);
    }
    const logout = await get(`${a.url}/auth/logout`, [alice.cookie], SAME_ORIGIN);
    assert.equal(logout.status, 302);
    const started = Date.now();
    for (const app of [b, c]) {
      await within(1000, 'the copied cookie refused', async () => (await withCookie(app, alice.cookie)).status === 401);
      await within(1000, 'the access token refused', async () => (await withBearer(app, alice.accessToken)).status === 401);
    }
    assert.ok(Date.now() - started < 1000);
    const refusal = await withBearer(b, alice.accessToken);
    assert.match(refusal.body, /revoked/);
  });

  it('a WebSocket connection on B is closed within a second of a logout on A, and C refuses a new one', async () => {
    const [a, b, c] = await startFleet();
    const alice = await login(a);
    const { socket, error } = await ioConnect(`${b.url}/live`, { auth: { token: alice.accessToken } });
    assert.equal(error, undefined);
    try {
      assert.deepEqual(await ioAsk(socket!, 'whoami'), { reply: alice.sub });
      const exception = new Promise<{ code: string }>((resolve) => socket!.once('exception', resolve));
      const disconnected = new Promise<number>((resolve) => socket!.once('disconnect', () => resolve(Date.now())));
      const loggedOutAt = Date.now();
      assert.equal((await get(`${a.url}/auth/logout`, [alice.cookie], SAME_ORIGIN)).status, 302);
      assert.equal((await exception).code, 'cognito_unauthorized');
      assert.ok((await disconnected) - loggedOutAt < 1000);
    } finally {
      socket?.close();
    }
    const again = await ioConnect(`${c.url}/live`, { auth: { token: alice.accessToken } });
    again.socket?.close();
    assert.equal(again.error?.data?.code, 'cognito_unauthorized');
  });

  it('revokeUser(sub) on B signs the user out on A and C, and a later sign-in works', async () => {
    const [a, b, c] = await startFleet();
    const first = await login(a);
    const second = await login(c);
    const bob = await login(a, BOB);
    await b.app.get(CognitoSessionService).revokeUser(first.sub);
    for (const app of [a, c]) {
      for (const session of [first, second]) {
        await within(1000, 'every session of the user refused', async () => (await withCookie(app, session.cookie)).status === 401);
        await within(1000, 'every token of the user refused', async () => (await withBearer(app, session.accessToken)).status === 401);
      }
      // Another user is untouched.
      assert.equal((await withCookie(app, bob.cookie)).status, 200);
    }
    // Cognito's times are whole seconds and its iat may run a second ahead: from two seconds on,
    // a sign-in is a new start.
    await sleep(2100);
    const again = await login(b);
    for (const app of [a, b, c]) assert.equal((await withCookie(app, again.cookie)).status, 200);
  });

  it('50 concurrent requests of one browser over the three instances refresh once, with rotation', async () => {
    const [a] = await startFleet({ sessionRefreshMarginSeconds: MARGIN });
    const alice = await login(a);
    await sleep((LIFETIME - MARGIN + 0.5) * 1000);
    const before = cognito.requestCounts.get('/oauth2/token') ?? 0;
    const responses = await Promise.all(Array.from({ length: 50 }, (_, index) => get(`${fleet[index % 3].url}/me`, [alice.cookie])));
    for (const response of responses) {
      assert.equal(response.status, 200, response.body);
      assert.equal(JSON.parse(response.body).status, 'active');
    }
    assert.equal((cognito.requestCounts.get('/oauth2/token') ?? 0) - before, 1);
    // Whichever instance answered, the renewed session it handed out works on every instance.
    const renewed = responses.map((response) => cognitoSessionCookies(response.setCookies)).filter((pairs) => pairs.length > 0);
    assert.equal(renewed.length, 50);
    for (const pairs of [renewed[0], renewed[1], renewed[2]]) for (const app of fleet) assert.equal((await withCookie(app, pairs.join('; '))).status, 200);
    assert.equal((cognito.requestCounts.get('/oauth2/token') ?? 0) - before, 1);
  });

  it('a replica that missed messages while disconnected catches up', async () => {
    const [a, b, c] = await startFleet();
    const alice = await login(a);
    const admin = new Redis(redis.url);
    try {
      // Every subscription drops; the revocation is published while nobody listens.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await a.app.get(CognitoSessionService).revokeUser(alice.sub);
      // The proof that B and C catch up rather than hear it: nobody was subscribed when it was
      // published (the instances reconnect after 100 ms; publishing took a few).
      const [, listeners] = (await admin.call('PUBSUB', 'NUMSUB', `${prefix}events`)) as [string, number];
      assert.equal(Number(listeners), 0);
      for (const app of [b, c]) await within(3000, 'caught up after reconnecting', async () => (await withBearer(app, alice.accessToken)).status === 401);
    } finally {
      admin.disconnect();
    }
  });

  it('ignores what else is published on its channel, and keeps working', async () => {
    const [a, b] = await startFleet();
    const alice = await login(a);
    const admin = new Redis(redis.url);
    try {
      for (const junk of ['null', '42', 'not json', '{"type":"revoked"}', '{"type":"revoked","member":"f:x","until":"soon"}', '{"type":"refreshed","key":7}', '[]']) {
        await admin.publish(`${prefix}events`, junk);
      }
      await sleep(100);
      for (const app of fleet) assert.equal((await withBearer(app, alice.accessToken)).status, 200);
      await b.app.get(CognitoSessionService).revokeUser(alice.sub);
      await within(1000, 'revocations still heard', async () => (await withBearer(a, alice.accessToken)).status === 401);
    } finally {
      admin.disconnect();
    }
  });

  it('a subscription that goes silent without closing counts as lost: 503 after redisStaleSeconds, served again after', async () => {
    const [, b] = await startFleet({ redisStaleSeconds: 1 });
    const bob = await login(fleet[0], BOB);
    const admin = new Redis(redis.url);
    try {
      // Redis stops answering anyone for 4 s, connections open (as a stalled proxy would).
      await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');
      await within(3000, 'stale', async () => (await withBearer(b, bob.accessToken)).status === 503);
      await within(6000, 'in sync again', async () => (await withBearer(b, bob.accessToken)).status === 200);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  });

  it('a revocation Redis refused to store is written later without any reconnection', async () => {
    const [a, b] = await startFleet();
    const alice = await login(a);
    const admin = new Redis(redis.url);
    try {
      await admin.call('CONFIG', 'SET', 'maxmemory', '1');
      await a.app.get(CognitoSessionService).revokeUser(alice.sub);
      assert.equal((await withBearer(a, alice.accessToken)).status, 401, 'applied where it was recorded');
      assert.equal((await withBearer(b, alice.accessToken)).status, 200, 'not shared while Redis refuses writes');
      await admin.call('CONFIG', 'SET', 'maxmemory', '0');
      await within(3000, 'shared once Redis accepts it', async () => (await withBearer(b, alice.accessToken)).status === 401);
    } finally {
      await admin.call('CONFIG', 'SET', 'maxmemory', '0');
      admin.disconnect();
    }
  });

  it('Redis down: the replica serves for redisStaleSeconds, then 503 with Retry-After, never 500; back: resynchronised', async () => {
    const [a, b] = await startFleet({ redisStaleSeconds: 2 });
    const alice = await login(a);
    const bob = await login(a, BOB);
    const statuses = new Set<number>();
    let traffic = true;
    const background = (async () => {
      while (traffic) {
        for (const app of fleet) statuses.add((await withBearer(app, bob.accessToken)).status);
        await sleep(20);
      }
    })();
    try {
      await redis.kill();
      const killedAt = Date.now();
      // Within the window, what the replica knows is served.
      assert.equal((await withBearer(b, alice.accessToken)).status, 200);
      // A logout while Redis is away: effective on A at once, shared when Redis is back.
      assert.equal((await get(`${a.url}/auth/logout`, [alice.cookie], SAME_ORIGIN)).status, 302);
      assert.equal((await withBearer(a, alice.accessToken)).status, 401);
      await sleep(Math.max(0, 2300 - (Date.now() - killedAt)));
      const stale = await withBearer(b, bob.accessToken);
      assert.equal(stale.status, 503, stale.body);
      assert.equal(await retryAfter(b, bob.accessToken), '5');
      await redis.restart();
      // Both instances resynchronise without a restart, and B learns of the logout.
      await within(5000, 'B serves again', async () => (await withBearer(b, bob.accessToken)).status === 200);
      await within(3000, 'B refuses the session signed out during the outage', async () => (await withBearer(b, alice.accessToken)).status === 401);
    } finally {
      traffic = false;
      await background;
    }
    assert.deepEqual([...statuses].filter((status) => status !== 200 && status !== 503), []);
    assert.ok(statuses.has(503) && statuses.has(200));
  });

  it('sessionStore "redis": one small cookie, no token in Redis, logout and revokeUser delete the entry', async () => {
    const [a, b, c] = await startFleet({ sessionStore: 'redis' });
    const alice = await login(a);
    assert.match(alice.cookie, /^cognito-sid=[A-Za-z0-9_-]{43}$/);
    assert.equal((await withCookie(b, alice.cookie)).status, 200);
    const admin = new Redis(redis.url);
    try {
      const keys = await admin.keys(`${prefix}session:*`);
      assert.ok(keys.length >= 1);
      const sid = alice.cookie.split('=')[1];
      const tokens = a.recorder.successes.at(-1)!.tokens;
      for (const key of await admin.keys(`${prefix}*`)) {
        const type = await admin.type(key);
        const values = type === 'string' ? [await admin.get(key)] : type === 'set' ? await admin.smembers(key) : type === 'zset' ? await admin.zrange(key, '0', '-1') : [];
        for (const value of [key, ...values]) {
          for (const secret of [sid, tokens.accessToken, tokens.refreshToken!, tokens.idToken]) assert.ok(!String(value).includes(secret), `${key} holds a secret`);
        }
      }
      assert.equal((await get(`${c.url}/auth/logout`, [alice.cookie], SAME_ORIGIN)).status, 302);
      assert.equal((await withCookie(b, alice.cookie)).status, 401);
      assert.equal((await admin.keys(`${prefix}session:*`)).length, keys.length - 1);

      const again = await login(b);
      const other = await login(c);
      await a.app.get(CognitoSessionService).revokeUser(again.sub);
      assert.deepEqual(await admin.keys(`${prefix}session:*`), []);
      for (const session of [again, other]) assert.equal((await withCookie(b, session.cookie)).status, 401);
    } finally {
      admin.disconnect();
    }
  });

  it('sessionStore "redis": a logout while Redis stalls is completed when it answers again (tokens refused, entry deleted)', async () => {
    const [a, b] = await startFleet({ sessionStore: 'redis' });
    const alice = await login(a);
    const admin = new Redis(redis.url);
    try {
      await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
      const started = Date.now();
      const logout = await get(`${a.url}/auth/logout`, [alice.cookie], SAME_ORIGIN);
      assert.equal(logout.status, 302);
      assert.ok(Date.now() - started < 2500, 'the logout waited no longer than one command');
      assert.ok(logout.setCookies.some((line) => line.startsWith('cognito-sid=;')), 'the cookie is cleared at once');
      await within(6000, 'the access token refused once Redis answers', async () => (await withBearer(b, alice.accessToken)).status === 401);
      await within(2000, 'the entry deleted', async () => (await admin.keys(`${prefix}session:*`)).length === 0);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  });

  it('a logout does not wait for Redis', async () => {
    const [a, b] = await startFleet();
    const alice = await login(a);
    await redis.kill();
    try {
      const started = Date.now();
      assert.equal((await get(`${a.url}/auth/logout`, [alice.cookie], SAME_ORIGIN)).status, 302);
      assert.ok(Date.now() - started < 1000, `the logout took ${Date.now() - started} ms`);
      assert.equal((await withBearer(a, alice.accessToken)).status, 401);
    } finally {
      await redis.restart();
    }
    await within(5000, 'shared once Redis is back', async () => (await withBearer(b, alice.accessToken)).status === 401);
  });

  it('sessionStore "redis" with Redis down: 503 with Retry-After, never 500', async () => {
    const [a, b] = await startFleet({ sessionStore: 'redis' });
    const alice = await login(a);
    await redis.kill();
    try {
      const response = await withCookie(b, alice.cookie);
      assert.equal(response.status, 503, response.body);
      assert.match(response.body, /try again/);
    } finally {
      await redis.restart();
    }
    // Without persistence the restarted Redis lost the entry: signed out, not an error.
    await within(5000, 'answered again once Redis is back', async () => (await withCookie(b, alice.cookie)).status === 401);
    const again = await login(a);
    assert.equal((await withCookie(b, again.cookie)).status, 200);
  });
});

async function retryAfter(app: TestApp, token: string): Promise<string | null> {
  const response = await fetch(`${app.url}/guarded`, { headers: { authorization: `Bearer ${token}` } });
  await response.text();
  return response.headers.get('retry-after');
}

/** The module's session cookies a response sets (`name=value`). */
function cognitoSessionCookies(setCookies: string[]): string[] {
  return cookiePairs(setCookies).filter((pair) => pair.startsWith('cognito-session.'));
}
