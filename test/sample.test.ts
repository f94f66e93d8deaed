import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NestFactory } from '@nestjs/core';
import { HostedUiBrowser } from '../lib/testing/index.js';
import { AppModule } from '../sample/app.module.js';
import { chooseCognito, DEMO_USER } from '../sample/cognito-backend.js';
import { cookiePairs, get } from './support/app.js';

describe('sample app', () => {
  it('signs the demo user in against the local Cognito and shows who logged in', async () => {
    delete process.env.COGNITO_USER_POOL_ID;
    // The registered callback URL uses a placeholder port; requests go to the real one.
    const cognito = await chooseCognito('http://127.0.0.1:3999');
    const app = await NestFactory.create(AppModule.register(cognito.options), { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      assert.match((await get(`${url}/`)).body, /href="\/auth\/login"/);

      const login = await get(`${url}/auth/login`);
      const redirect = await new HostedUiBrowser().signIn(login.location!, DEMO_USER);
      const signedIn = await get(`${url}${redirect.pathname}${redirect.search}`, cookiePairs(login.setCookies));
      assert.equal(signedIn.status, 200);
      assert.match(signedIn.body, /Signed in as alice/);
      assert.match(signedIn.body, /<dd data-testid="email">alice@example.com<\/dd>/);
      assert.match(signedIn.body, /<dd data-testid="groups">admin<\/dd>/);

      const failed = await get(`${url}${redirect.pathname}${redirect.search}`);
      assert.equal(failed.location, '/login-error?error=login_cookie_missing');
      assert.match((await get(`${url}${failed.location}`)).body, /Reason: <code>login_cookie_missing<\/code>/);
    } finally {
      await app.close();
      await cognito.stop();
    }
  });
});
