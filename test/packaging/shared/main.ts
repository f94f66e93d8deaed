// Copied into each app of test/packaging as src/main.ts, built with the app's tsconfig.build.json
// and run with node (ES modules or CommonJS, NestJS 12 or 11), against the packed tarball of
// this package: a production build that boots, and a login that completes.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { CognitoModule, type CognitoCallbackHandler, type CognitoLoginResult } from 'nestjs-cognito-lowlevel';
import { HostedUiBrowser, LocalCognito } from 'nestjs-cognito-lowlevel/testing';

const REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';

@Injectable()
class LoginHandler implements CognitoCallbackHandler {
  static signedIn: string | undefined;
  onSuccess(result: CognitoLoginResult): void {
    LoginHandler.signedIn = result.idToken['cognito:username'];
  }
}

async function main(): Promise<void> {
  const cognito = await LocalCognito.start({
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
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  try {
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
    const login = await fetch(`${url}/auth/login`, { redirect: 'manual' });
    const redirect = await new HostedUiBrowser().signIn(login.headers.get('location')!, { username: 'packaged-user', password: 'packaged-password' });
    const cookie = login.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
    const callback = await fetch(`${url}${redirect.pathname}${redirect.search}`, { redirect: 'manual', headers: { cookie } });
    const format = typeof require === 'function' ? 'commonjs' : 'esm';
    console.log(`RESULT ${JSON.stringify({ format, status: callback.status, location: callback.headers.get('location'), user: LoginHandler.signedIn })}`);
  } finally {
    await app.close();
    await cognito.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
