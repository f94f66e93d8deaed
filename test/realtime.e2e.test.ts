import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Module, UseGuards, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ConnectedSocket, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import { RealtimeAuthService } from '../lib/realtime/realtime-auth.service.js';
import {
  CognitoAuthGuard,
  CognitoClaims,
  CognitoIoAdapter,
  CognitoModule,
  CognitoWsAdapter,
  Public,
  RequireGroups,
  RequireScopes,
  TokenUse,
  cognitoSocketAuth,
  type CognitoModuleOptions,
} from '../lib/index.js';
import { LocalCognito } from '../lib/testing/index.js';
import { PLATFORMS, loginThroughApp, type Platform } from './support/app.js';
import { SessionHandler } from './support/guarded-app.js';
import { COOKIE_SECRET } from './support/module.js';
import { Manager } from 'socket.io-client';
import { ioAsk, ioConnect, wsConnect } from './support/realtime.js';
import { closedPort } from './support/servers.js';

const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';
const APP_ORIGIN = 'http://127.0.0.1:3000';
const ALICE = { username: 'alice', password: 'correct horse battery', email: 'alice@example.com' };

type Transport = 'socket.io' | 'ws';

/**
 * The same three gateways for each transport: socket.io tells them apart by namespace, ws by
 * path. A ws handler answers `{ event, data }`, which WsAdapter sends as it is.
 */
function gateways(transport: Transport, ownPort: number): Type[] {
  const where = (name: string) => (transport === 'socket.io' ? { namespace: name } : { path: `/ws/${name}` });
  const answer = (event: string, data: unknown) => (transport === 'socket.io' ? data : { event, data });

  @UseGuards(CognitoAuthGuard)
  @WebSocketGateway(where('secure'))
  class SecureGateway {
    @SubscribeMessage('whoami')
    whoami(@CognitoClaims('username') username: string, @ConnectedSocket() client: unknown) {
      return answer('whoami', { username, source: cognitoSocketAuth(client)?.source });
    }

    @RequireGroups('admin')
    @SubscribeMessage('admin')
    admin() {
      return answer('admin', 'admin-ok');
    }

    @RequireScopes('orders/write')
    @SubscribeMessage('write')
    write() {
      return answer('write', 'write-ok');
    }

    @TokenUse('id')
    @SubscribeMessage('idOnly')
    idOnly() {
      return answer('idOnly', 'id-ok');
    }
  }

  @UseGuards(CognitoAuthGuard)
  @RequireGroups('admin')
  @WebSocketGateway(where('admins'))
  class AdminGateway {
    @SubscribeMessage('ping')
    ping() {
      return answer('ping', 'pong');
    }
  }

  @WebSocketGateway(where('open'))
  class OpenGateway {
    @SubscribeMessage('hello')
    hello(@CognitoClaims('username') username?: string) {
      return answer('hello', username ?? 'anonymous');
    }

    @UseGuards(CognitoAuthGuard)
    @SubscribeMessage('private')
    private(@CognitoClaims('username') username: string) {
      return answer('private', username);
    }

    @UseGuards(CognitoAuthGuard)
    @Public()
    @SubscribeMessage('public')
    public(@CognitoClaims('username') username?: string) {
      return answer('public', username ?? 'anonymous');
    }
  }
  @UseGuards(CognitoAuthGuard)
  @RequireScopes('orders/write')
  @WebSocketGateway(where('writers'))
  class WritersGateway {
    @SubscribeMessage('ping')
    ping() {
      return answer('ping', 'pong');
    }
  }

  /** Connections bring ID tokens; handlers see the ID token's claims. */
  @UseGuards(CognitoAuthGuard)
  @TokenUse('id')
  @WebSocketGateway(where('profiles'))
  class ProfilesGateway {
    @SubscribeMessage('email')
    email(@CognitoClaims('email') email: string, @ConnectedSocket() client: unknown) {
      return answer('email', { email, tokenUse: cognitoSocketAuth(client)?.tokenUse });
    }
  }

  /** Two gateways on one namespace or path that want different token uses: no token can meet both. */
  @UseGuards(CognitoAuthGuard)
  @WebSocketGateway(where('mixed'))
  class MixedAccessGateway {}

  @UseGuards(CognitoAuthGuard)
  @TokenUse('id')
  @WebSocketGateway(where('mixed'))
  class MixedIdGateway {}

  /** A gateway on a port of its own (its own server): its connect-time rules apply there, and only there. */
  @UseGuards(CognitoAuthGuard)
  @WebSocketGateway(ownPort, transport === 'socket.io' ? {} : { path: '/own' })
  class OwnPortGateway {
    @Public()
    @SubscribeMessage('hello')
    hello(@CognitoClaims('username') username?: string) {
      return answer('hello', username ?? 'anonymous');
    }
  }
  return [SecureGateway, AdminGateway, OpenGateway, OwnPortGateway, MixedAccessGateway, MixedIdGateway, WritersGateway, ProfilesGateway];
}

async function startRealtimeApp(platform: Platform, transport: Transport, options: CognitoModuleOptions): Promise<{ app: INestApplication; url: string; ownPort: number }> {
  const ownPort = await closedPort();
  @Module({ imports: [CognitoModule.forRoot({ ...options, callbackHandler: SessionHandler })], providers: gateways(transport, ownPort) })
  class RealtimeAppModule {}
  const app = await NestFactory.create(RealtimeAppModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false, abortOnError: false });
  app.useWebSocketAdapter(transport === 'socket.io' ? new CognitoIoAdapter(app) : new CognitoWsAdapter(app));
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1'), ownPort };
}

for (const platform of PLATFORMS) {
  describe(`WebSocket gateways on ${platform}`, () => {
    let cognito: LocalCognito;
    const apps: INestApplication[] = [];
    const options = (overrides: Partial<CognitoModuleOptions> = {}): CognitoModuleOptions => ({
      ...cognito.moduleOptions('webapp'),
      redirectUri: REDIRECT_URI,
      cookieSecret: COOKIE_SECRET,
      ...overrides,
    });
    const ownPorts = new Map<string, number>();
    async function start(transport: Transport, overrides: Partial<CognitoModuleOptions> = {}) {
      const started = await startRealtimeApp(platform, transport, options(overrides));
      apps.push(started.app);
      ownPorts.set(started.url, started.ownPort);
      return started.url;
    }
    /** A real login through the app; the session cookies a browser keeps. */
    async function login(url: string): Promise<string> {
      return loginThroughApp(cognito, url, ALICE);
    }

    before(async () => {
      cognito = await LocalCognito.start({ users: [ALICE], clients: [{ clientId: 'webapp', redirectUris: [REDIRECT_URI] }, { clientId: 'other-app', redirectUris: [REDIRECT_URI] }] });
    });
    after(async () => {
      for (const app of apps) await app.close();
      await cognito?.stop();
    });

    describe('socket.io (CognitoIoAdapter)', () => {
      let url: string;
      before(async () => {
        url = await start('socket.io');
      });

      it('admits a valid token from auth.token, auth.authorization or the Authorization header, and says where it came from', async () => {
        const token = await cognito.mintAccessToken({ username: 'io-user' });
        for (const [connect, source] of [
          [{ auth: { token } }, 'handshake'],
          [{ auth: { authorization: `Bearer ${token}` } }, 'handshake'],
          [{ headers: { authorization: `Bearer ${token}` } }, 'header'],
        ] as const) {
          const { socket, error } = await ioConnect(`${url}/secure`, connect);
          assert.equal(error, undefined, String(error?.message));
          assert.deepEqual((await ioAsk(socket!, 'whoami')).reply, { username: 'io-user', source });
          socket!.close();
        }
      });

      it('refuses a connection without a valid token with connect_error, a stable code and the reason', async () => {
        const cases: [Record<string, unknown> | undefined, RegExp][] = [
          [undefined, /No token/],
          [{ token: await cognito.mintAccessToken({ expiresInSeconds: -60 }) }, /expired/i],
          [{ token: await cognito.mintAccessToken({ clientId: 'other-app' }) }, /client/i],
          [{ token: await cognito.mintIdToken() }, /token_use|ID token|access/i],
          [{ token: 'not-a-token' }, /malformed|token/i],
          [{ authorization: 'Basic dXNlcjpwYXNz' }, /Bearer/],
          [{ token: 42 }, /not a token/],
          [{ authorization: ['Bearer', 'x'] }, /Bearer/],
        ];
        for (const [auth, reason] of cases) {
          const { socket, error } = await ioConnect(`${url}/secure`, { auth });
          assert.equal(socket, undefined);
          assert.deepEqual(error!.data, { code: 'cognito_unauthorized', status: 401 });
          assert.match(error!.message, reason);
        }
      });

      it("checks the gateway class's groups at connect time, and a handler's groups and scopes per message", async () => {
        const refused = await ioConnect(`${url}/admins`, { auth: { token: await cognito.mintAccessToken({ groups: ['staff'] }) } });
        assert.deepEqual(refused.error?.data, { code: 'cognito_forbidden', status: 403 });
        const admitted = await ioConnect(`${url}/admins`, { auth: { token: await cognito.mintAccessToken({ groups: ['admin'] }) } });
        assert.equal((await ioAsk(admitted.socket!, 'ping')).reply, 'pong');
        admitted.socket!.close();

        const { socket } = await ioConnect(`${url}/secure`, { auth: { token: await cognito.mintAccessToken({ groups: ['staff'], scopes: ['orders/read'] }) } });
        assert.deepEqual((await ioAsk(socket!, 'admin')).exception, { status: 'error', code: 'cognito_forbidden', message: 'Not a member of a required Cognito group' });
        assert.deepEqual((await ioAsk(socket!, 'write')).exception, { status: 'error', code: 'cognito_forbidden', message: 'The token lacks a required scope' });
        assert.equal((await ioAsk(socket!, 'idOnly')).exception?.code, 'cognito_unauthorized');
        socket!.close();
      });

      it('lets anyone into an open gateway; its guarded handlers refuse anonymous connections, @Public ones do not', async () => {
        const anonymous = (await ioConnect(`${url}/open`)).socket!;
        assert.equal((await ioAsk(anonymous, 'hello')).reply, 'anonymous');
        assert.equal((await ioAsk(anonymous, 'public')).reply, 'anonymous');
        assert.equal((await ioAsk(anonymous, 'private')).exception?.code, 'cognito_unauthorized');
        anonymous.close();
        // An invalid token on an open gateway is no token (as on a @Public route).
        const invalid = await ioConnect(`${url}/open`, { auth: { token: await cognito.mintAccessToken({ expiresInSeconds: -60 }) } });
        assert.equal((await ioAsk(invalid.socket!, 'private')).exception?.code, 'cognito_unauthorized');
        invalid.socket!.close();
        const signedIn = (await ioConnect(`${url}/open`, { auth: { token: await cognito.mintAccessToken({ username: 'open-user' }) } })).socket!;
        assert.equal((await ioAsk(signedIn, 'private')).reply, 'open-user');
        assert.equal((await ioAsk(signedIn, 'public')).reply, 'open-user');
        signedIn.close();
      });

      it("applies a gateway's connect-time rules on its own port, and not to the app's port", async () => {
        const own = `http://127.0.0.1:${ownPorts.get(url)}`;
        assert.deepEqual((await ioConnect(own)).error?.data, { code: 'cognito_unauthorized', status: 401 });
        const admitted = (await ioConnect(own, { auth: { token: await cognito.mintAccessToken({ username: 'port-user' }) } })).socket!;
        assert.equal((await ioAsk(admitted, 'hello')).reply, 'port-user');
        admitted.close();
        // The app's own port: the root namespace has no guarded gateway.
        const root = await ioConnect(url);
        assert.equal(root.error, undefined);
        root.socket!.close();
      });

      it("checks the gateway class's scopes at connect time, and its @TokenUse('id')", async () => {
        const reader = await ioConnect(`${url}/writers`, { auth: { token: await cognito.mintAccessToken({ scopes: ['orders/read'] }) } });
        assert.deepEqual(reader.error?.data, { code: 'cognito_forbidden', status: 403 });
        assert.equal(reader.error?.message, 'The token lacks a required scope');
        const writer = (await ioConnect(`${url}/writers`, { auth: { token: await cognito.mintAccessToken({ scopes: ['orders/write'] }) } })).socket!;
        assert.equal((await ioAsk(writer, 'ping')).reply, 'pong');
        writer.close();

        const access = await ioConnect(`${url}/profiles`, { auth: { token: await cognito.mintAccessToken() } });
        assert.deepEqual(access.error?.data, { code: 'cognito_unauthorized', status: 401 });
        const profile = (await ioConnect(`${url}/profiles`, { auth: { token: await cognito.mintIdToken({ claims: { email: 'id@example.com' } }) } })).socket!;
        assert.deepEqual((await ioAsk(profile, 'email')).reply, { email: 'id@example.com', tokenUse: 'id' });
        profile.close();
      });

      it('refuses every token on a namespace whose gateways want different token uses', async () => {
        for (const token of [await cognito.mintAccessToken(), await cognito.mintIdToken()]) {
          const { error } = await ioConnect(`${url}/mixed`, { auth: { token } });
          assert.deepEqual(error?.data, { code: 'cognito_unauthorized', status: 401 });
          assert.match(error!.message, /Mixed(Access|Id)Gateway needs an? (ID|access) token|token_use/);
        }
      });

      it('ends one namespace at its token expiry and leaves the others of the same connection alone', async () => {
        const manager = new Manager(url, { transports: ['websocket'], reconnection: false });
        const secure = manager.socket('/secure', { auth: { token: await cognito.mintAccessToken({ username: 'two', expiresInSeconds: 2 }) } });
        const open = manager.socket('/open');
        await Promise.all([new Promise<void>((resolve) => secure.once('connect', () => resolve())), new Promise<void>((resolve) => open.once('connect', () => resolve()))]);
        assert.equal(await new Promise((resolve) => secure.once('disconnect', resolve)), 'io server disconnect');
        assert.equal(open.connected, true);
        assert.equal((await ioAsk(open, 'hello')).reply, 'anonymous');
        open.close();
      });

      it('checks a socket recovered by connection-state recovery again, and still ends it at expiry', async (t) => {
        // Recovery is an option of the server: an app whose only gateway asks for it.
        @UseGuards(CognitoAuthGuard)
        @WebSocketGateway({ namespace: 'recovering', connectionStateRecovery: {} })
        class RecoveringGateway {
          @WebSocketServer() server!: { emit(event: string, data: unknown): void };

          /** A broadcast: what recovery replays, and what a client must have seen to be recovered. */
          handleConnection() {
            this.server.emit('tick', Date.now());
          }

          @SubscribeMessage('whoami')
          whoami(@CognitoClaims('username') username: string) {
            return username;
          }
        }
        @Module({ imports: [CognitoModule.forRoot({ ...options(), callbackHandler: SessionHandler })], providers: [RecoveringGateway] })
        class RecoveringModule {}
        const app = await NestFactory.create(RecoveringModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
        app.useWebSocketAdapter(new CognitoIoAdapter(app));
        await app.listen(0, '127.0.0.1');
        apps.push(app);
        const base = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
        const opened: { close(): unknown; io: { reconnection(value: boolean): unknown } }[] = [];
        t.after(() => {
          for (const socket of opened) {
            socket.io.reconnection(false);
            socket.close();
          }
        });
        const connect = async (token: string) => {
          const manager = new Manager(base, { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 50 });
          const socket = manager.socket('/recovering', { auth: { token } });
          opened.push(socket);
          await new Promise<void>((resolve) => socket.once('tick', () => resolve()));
          return { manager, socket };
        };
        // The token the socket brings when it comes back is checked: here, one that has expired.
        const first = await connect(await cognito.mintAccessToken({ username: 'recovered' }));
        first.socket.auth = { token: await cognito.mintAccessToken({ username: 'recovered', expiresInSeconds: -60 }) };
        first.manager.engine.close(); // a network blip: the transport drops, the client reconnects
        const outcome = await new Promise<{ code?: string; recovered?: boolean }>((resolve) => {
          first.socket.once('connect_error', (error: Error & { data?: { code: string } }) => resolve({ code: error.data?.code }));
          first.socket.once('connect', () => resolve({ recovered: first.socket.recovered }));
        });
        assert.deepEqual(outcome, { code: 'cognito_unauthorized' });
        first.socket.io.reconnection(false);
        first.socket.close();

        // A recovered socket (the same token, still valid) is ended at its token's expiry all the same.
        const second = await connect(await cognito.mintAccessToken({ username: 'recovered', expiresInSeconds: 3 }));
        second.manager.engine.close();
        await new Promise<void>((resolve) => second.socket.once('connect', () => resolve()));
        assert.equal(second.socket.recovered, true);
        assert.equal((await ioAsk(second.socket, 'whoami')).reply, 'recovered');
        const reason = await new Promise<{ code: string }>((resolve) => second.socket.once('exception', resolve));
        assert.equal(reason.code, 'cognito_unauthorized');
        second.socket.io.reconnection(false);
        second.socket.close();
      });

      it("takes the session cookie of a real login from the app's own origin or a program without Origin, never from another site", async () => {
        const cookie = await login(url);
        for (const headers of [{ cookie, origin: APP_ORIGIN }, { cookie }] as Record<string, string>[]) {
          const { socket, error } = await ioConnect(`${url}/secure`, { headers });
          assert.equal(error, undefined, String(error?.message));
          assert.deepEqual((await ioAsk(socket!, 'whoami')).reply, { username: 'alice', source: 'cookie' });
          socket!.close();
        }
        const crossSite = await ioConnect(`${url}/secure`, { headers: { cookie, origin: 'https://evil.example' } });
        assert.deepEqual(crossSite.error?.data, { code: 'cognito_forbidden', status: 403 });
        assert.match(crossSite.error!.message, /Origin/);
        // No Origin, but the browser says the request comes from another site (a long-polling GET, say).
        const marked = await ioConnect(`${url}/secure`, { headers: { cookie, 'sec-fetch-site': 'cross-site' } });
        assert.deepEqual(marked.error?.data, { code: 'cognito_forbidden', status: 403 });
        // A bearer token is not a cookie: another origin does not matter.
        const bearer = await ioConnect(`${url}/secure`, { auth: { token: await cognito.mintAccessToken() }, headers: { origin: 'https://evil.example' } });
        assert.equal(bearer.error, undefined);
        bearer.socket!.close();
      });

      it('closes the connection when the token expires, unless a fresh token of the same user came first (cognito:refresh)', async () => {
        const expiring = (await ioConnect(`${url}/secure`, { auth: { token: await cognito.mintAccessToken({ username: 'short', expiresInSeconds: 2 }) } })).socket!;
        const reason = new Promise<{ code: string }>((resolve) => expiring.once('exception', resolve));
        const disconnected = new Promise<string>((resolve) => expiring.once('disconnect', resolve));
        assert.deepEqual(await reason, { status: 'error', code: 'cognito_unauthorized', message: 'The access token expired; reconnect with a fresh one' });
        assert.equal(await disconnected, 'io server disconnect');

        const refreshed = (await ioConnect(`${url}/secure`, { auth: { token: await cognito.mintAccessToken({ username: 'short', expiresInSeconds: 2 }) } })).socket!;
        const stranger = await refreshed.emitWithAck('cognito:refresh', { token: await cognito.mintAccessToken({ username: 'someone-else' }) });
        assert.deepEqual(stranger, { accepted: false, code: 'cognito_forbidden', message: 'The token belongs to another user than the connection' });
        for (const payload of [{ token: 'nope' }, null, 42, 'a string', { token: { nested: true } }]) {
          const invalid = await refreshed.emitWithAck('cognito:refresh', payload);
          assert.equal(invalid.accepted, false);
          assert.equal(invalid.code, 'cognito_unauthorized');
        }
        const fresh = await refreshed.emitWithAck('cognito:refresh', { token: await cognito.mintAccessToken({ username: 'short', expiresInSeconds: 3600 }) });
        assert.equal(fresh.accepted, true);
        assert.ok(fresh.expiresAt > Date.now() / 1000 + 3000);
        await sleep(3000);
        assert.equal(refreshed.connected, true);
        assert.deepEqual((await ioAsk(refreshed, 'whoami')).reply, { username: 'short', source: 'handshake' });
        refreshed.close();
      });
    });

    describe('ws (CognitoWsAdapter)', () => {
      let url: string;
      before(async () => {
        url = (await start('ws')).replace('http:', 'ws:');
      });

      it('admits a bearer token from the Authorization header, and handles messages sent before the check ended', async () => {
        const connection = await wsConnect(`${url}/ws/secure`, { authorization: `Bearer ${await cognito.mintAccessToken({ username: 'ws-user' })}` });
        connection.send('whoami');
        assert.deepEqual(await connection.next(), { event: 'whoami', data: { username: 'ws-user', source: 'header' } });
        connection.socket.close();
      });

      it('closes a connection without a valid token with 4401, a missing group with 4403, and says why', async () => {
        const none = await wsConnect(`${url}/ws/secure`);
        assert.deepEqual(await none.closed, { code: 4401, reason: 'No token: send one in the handshake, the Authorization header, or the session cookie' });
        const expired = await wsConnect(`${url}/ws/secure`, { authorization: `Bearer ${await cognito.mintAccessToken({ expiresInSeconds: -60 })}` });
        assert.equal((await expired.closed).code, 4401);
        const staff = await wsConnect(`${url}/ws/admins`, { authorization: `Bearer ${await cognito.mintAccessToken({ groups: ['staff'] })}` });
        assert.deepEqual(await staff.closed, { code: 4403, reason: 'Not a member of a required Cognito group' });
      });

      it("applies a gateway's connect-time rules on its own port", async () => {
        const own = `ws://127.0.0.1:${ownPorts.get(url.replace('ws:', 'http:'))}/own`;
        assert.equal((await (await wsConnect(own)).closed).code, 4401);
        const admitted = await wsConnect(own, { authorization: `Bearer ${await cognito.mintAccessToken({ username: 'port-user' })}` });
        admitted.send('hello');
        assert.deepEqual(await admitted.next(), { event: 'hello', data: 'port-user' });
        admitted.socket.close();
      });

      it('refuses a guarded message with the WsException of its code', async () => {
        const connection = await wsConnect(`${url}/ws/open`);
        connection.send('private');
        assert.deepEqual(await connection.next(), { event: 'exception', data: { status: 'error', code: 'cognito_unauthorized', message: 'The connection has no valid token' } });
        connection.send('hello');
        assert.deepEqual(await connection.next(), { event: 'hello', data: 'anonymous' });
        connection.socket.close();
      });

      it('takes the session cookie from the same origin and refuses it from another site with 4403', async () => {
        const cookie = await login(url.replace('ws:', 'http:'));
        const same = await wsConnect(`${url}/ws/secure`, { cookie, origin: APP_ORIGIN });
        same.send('whoami');
        assert.deepEqual(await same.next(), { event: 'whoami', data: { username: 'alice', source: 'cookie' } });
        same.socket.close();
        const crossSite = await wsConnect(`${url}/ws/secure`, { cookie, origin: 'https://evil.example' });
        assert.equal((await crossSite.closed).code, 4403);
      });

      it('closes with 4401 at expiry, unless cognito:refresh brought a fresh token', async () => {
        const expiring = await wsConnect(`${url}/ws/secure`, { authorization: `Bearer ${await cognito.mintAccessToken({ username: 'short', expiresInSeconds: 2 })}` });
        assert.deepEqual(await expiring.closed, { code: 4401, reason: 'The access token expired; reconnect with a fresh one' });

        const refreshed = await wsConnect(`${url}/ws/secure`, { authorization: `Bearer ${await cognito.mintAccessToken({ username: 'short', expiresInSeconds: 2 })}` });
        refreshed.send('cognito:refresh', { token: await cognito.mintAccessToken({ username: 'short' }) });
        const reply = await refreshed.next();
        assert.equal(reply.event, 'cognito:refresh');
        assert.equal(reply.data.accepted, true);
        await sleep(3000);
        assert.equal(refreshed.socket.readyState, refreshed.socket.OPEN);
        refreshed.socket.close();
      });
    });

    it('answers 4503 / cognito_unavailable, not 4401, when the keys cannot be fetched', async () => {
      const closed: Server = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const jwksUri = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const token = await cognito.mintAccessToken();
      const io = await ioConnect(`${await start('socket.io', { jwksUri })}/secure`, { auth: { token } });
      assert.deepEqual(io.error?.data, { code: 'cognito_unavailable', status: 503 });
      const ws = await wsConnect(`${(await start('ws', { jwksUri })).replace('http:', 'ws:')}/ws/secure`, { authorization: `Bearer ${token}` });
      assert.equal((await ws.closed).code, 4503);
    });
  });
}

describe('Connections at scale', () => {
  it('verifies 1,000 concurrent socket.io connections with distinct tokens on one JWKS fetch', async () => {
    const cognito = await LocalCognito.start({ clients: [{ clientId: 'webapp', redirectUris: [REDIRECT_URI] }] });
    const { app, url } = await startRealtimeApp('express', 'socket.io', { ...cognito.moduleOptions('webapp'), redirectUri: REDIRECT_URI, cookieSecret: COOKIE_SECRET });
    try {
      const tokens = await Promise.all(Array.from({ length: 1000 }, (_, index) => cognito.mintAccessToken({ username: `user-${index}` })));
      const jwksPath = new URL(cognito.jwksUri).pathname;
      const fetchesBefore = cognito.requestCounts.get(jwksPath) ?? 0;
      const connections = await Promise.all(tokens.map((token) => ioConnect(`${url}/secure`, { auth: { token } })));
      assert.equal(connections.filter((connection) => connection.socket?.connected).length, 1000);
      assert.ok((cognito.requestCounts.get(jwksPath) ?? 0) - fetchesBefore <= 1);
      const replies = await Promise.all(connections.slice(0, 20).map(({ socket }) => ioAsk(socket!, 'whoami')));
      assert.deepEqual(
        replies.map(({ reply }) => (reply as { username: string }).username),
        Array.from({ length: 20 }, (_, index) => `user-${index}`),
      );
      for (const { socket } of connections) socket?.close();
    } finally {
      await app.close();
      await cognito.stop();
    }
  });
});

describe('Connections that end while they are checked or refreshed', () => {
  let cognito: LocalCognito;
  let app: INestApplication;
  let slowJwks: Server;
  let url: string;
  before(async () => {
    cognito = await LocalCognito.start({ clients: [{ clientId: 'webapp', redirectUris: [REDIRECT_URI] }] });
    // The pool's keys, served a second late: every check of a new connection waits for them.
    slowJwks = createServer((_request, response) => {
      setTimeout(async () => response.end(await (await fetch(cognito.jwksUri)).text()), 1000);
    });
    await new Promise<void>((resolve) => slowJwks.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(slowJwks.address() as AddressInfo).port}/jwks.json`;
    ({ app, url } = await startRealtimeApp('express', 'ws', { ...cognito.moduleOptions('webapp'), jwksUri, redirectUri: REDIRECT_URI, cookieSecret: COOKIE_SECRET }));
    url = url.replace('http:', 'ws:');
  });
  after(async () => {
    await app?.close();
    slowJwks?.close();
    await cognito?.stop();
  });

  it('closes a ws connection with 1008 that sends too much before its token is checked', async () => {
    const connection = await wsConnect(`${url}/ws/secure`, { authorization: `Bearer ${await cognito.mintAccessToken()}` });
    for (let index = 0; index < 150; index++) connection.send('whoami');
    assert.deepEqual(await connection.closed, { code: 1008, reason: 'Too many messages before the connection was authenticated' });
  });

  it('arms no expiry timer for a connection that is gone, and refuses messages of one that is closing', async () => {
    const realtime = app.get(RealtimeAuthService);
    const claims = { sub: 'gone', iss: cognito.issuer, exp: Math.floor(Date.now() / 1000) + 1 };
    const expired: string[] = [];
    const gone = { cognito: { claims, tokenUse: 'access', source: 'header' } };
    realtime.watchExpiry(gone, () => expired.push('gone'), () => false);
    const open = { cognito: { claims, tokenUse: 'access', source: 'header' } };
    realtime.watchExpiry(open, () => expired.push('open'), () => true);
    await sleep(1500);
    assert.deepEqual(expired, ['open']);
    const rules = { isPublic: false, tokenUse: 'access' as const, groups: undefined, scopes: undefined };
    assert.throws(() => realtime.authorizeMessage({ readyState: 2, cognito: { claims: { ...claims, exp: claims.exp + 3600 }, tokenUse: 'access', source: 'header' } }, rules), /closing/);
  });
});
