// Copied into each app of test/packaging (created from `nest new`'s templates) and run by that
// app's own test runner (Vitest or Jest + ts-jest), against the packed tarball of this package:
// the module boots against the local Cognito, a user signs in, and a guarded route sees them.
import { Controller, Get, Injectable, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import {
  CognitoAuthGuard,
  CognitoClaims,
  CognitoModule,
  CognitoSessionService,
  type CognitoAccessTokenClaims,
  type CognitoCallbackContext,
  type CognitoCallbackHandler,
  type CognitoLoginResult,
} from 'nestjs-cognito-lowlevel';
import { HostedUiBrowser, LocalCognito } from 'nestjs-cognito-lowlevel/testing';

const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';

@Injectable()
class LoginHandler implements CognitoCallbackHandler {
  constructor(private readonly session: CognitoSessionService) {}
  async onSuccess(result: CognitoLoginResult, ctx: CognitoCallbackContext): Promise<void> {
    await this.session.establish(ctx.response, result.tokens);
  }
}

@Controller('me')
@UseGuards(CognitoAuthGuard)
class MeController {
  @Get()
  me(@CognitoClaims() claims: CognitoAccessTokenClaims) {
    return { username: claims.username };
  }
}

describe('nestjs-cognito-lowlevel in a fresh app', () => {
  let cognito: LocalCognito;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    cognito = await LocalCognito.start({
      users: [{ username: 'packaged-user', password: 'packaged-password' }],
      clients: [{ clientId: 'packagedapp', clientSecret: randomBytes(16).toString('hex'), redirectUris: [REDIRECT_URI] }],
    });
    @Module({
      imports: [
        CognitoModule.forRoot({
          ...cognito.moduleOptions('packagedapp'),
          redirectUri: REDIRECT_URI,
          cookieSecret: randomBytes(32).toString('base64url'),
          callbackHandler: LoginHandler,
        }),
      ],
      controllers: [MeController],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await cognito?.stop();
  });

  it('refuses the guarded route without a session', async () => {
    const response = await fetch(`${url}/me`);
    expect(response.status).toBe(401);
  });

  it('signs a user in through the Hosted UI and lets the session cookie open the guarded route', async () => {
    const login = await fetch(`${url}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const redirect = await new HostedUiBrowser().signIn(login.headers.get('location')!, { username: 'packaged-user', password: 'packaged-password' });
    const loginCookies = login.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
    const callback = await fetch(`${url}${redirect.pathname}${redirect.search}`, { redirect: 'manual', headers: { cookie: loginCookies } });
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/');
    const session = callback.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .filter((pair) => !pair.endsWith('='))
      .join('; ');
    const me = await fetch(`${url}/me`, { headers: { cookie: session } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ username: 'packaged-user' });
  });

  it('accepts a bearer token minted by the local Cognito', async () => {
    const token = await cognito.mintAccessToken({ clientId: 'packagedapp', username: 'minted-user' });
    const me = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toEqual({ username: 'minted-user' });
  });
});
