// Copied into each app of test/packaging and run by that app's own test runner: CognitoIoAdapter
// (whose base class, IoAdapter, is loaded from the app's own @nestjs/platform-socket.io when the
// module starts) authenticates a socket.io connection, and a guarded handler sees its claims.
import { Injectable, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { CognitoAuthGuard, CognitoClaims, CognitoIoAdapter, CognitoModule, type CognitoCallbackHandler } from 'nestjs-cognito-lowlevel';
import { LocalCognito } from 'nestjs-cognito-lowlevel/testing';

@Injectable()
class NoopHandler implements CognitoCallbackHandler {
  onSuccess(): void {}
}

@UseGuards(CognitoAuthGuard)
@WebSocketGateway({ namespace: 'live' })
class LiveGateway {
  @SubscribeMessage('whoami')
  whoami(@CognitoClaims('username') username: string) {
    return username;
  }
}

function connect(url: string, auth: Record<string, string>): Promise<{ socket?: Socket; code?: string }> {
  const socket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ socket }));
    socket.once('connect_error', (error: Error & { data?: { code: string } }) => {
      socket.close();
      resolve({ code: error.data?.code });
    });
  });
}

describe('nestjs-cognito-lowlevel WebSockets in a fresh app', () => {
  let cognito: LocalCognito;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    cognito = await LocalCognito.start({ clients: [{ clientId: 'packagedapp', redirectUris: ['http://127.0.0.1:3000/auth/callback'] }] });
    @Module({
      imports: [
        CognitoModule.forRoot({
          ...cognito.moduleOptions('packagedapp'),
          redirectUri: 'http://127.0.0.1:3000/auth/callback',
          cookieSecret: randomBytes(32).toString('base64url'),
          callbackHandler: NoopHandler,
        }),
      ],
      providers: [LiveGateway],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    const adapter = new CognitoIoAdapter(app);
    expect(adapter instanceof IoAdapter).toBe(true);
    app.useWebSocketAdapter(adapter);
    await app.listen(0, '127.0.0.1');
    url = `${(await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1')}/live`;
  });

  afterAll(async () => {
    await app?.close();
    await cognito?.stop();
  });

  it('admits a connection with a valid token, and the guarded handler sees its claims', async () => {
    const { socket } = await connect(url, { token: await cognito.mintAccessToken({ username: 'socket-user' }) });
    expect(await socket!.emitWithAck('whoami')).toBe('socket-user');
    socket!.close();
  });

  it('refuses a connection without a token, with a stable code', async () => {
    expect((await connect(url, {})).code).toBe('cognito_unauthorized');
  });
});
