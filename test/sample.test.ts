import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NestFactory } from '@nestjs/core';
import { HostedUiBrowser } from '../lib/testing/index.js';
import { AppModule } from '../sample/app.module.js';
import { chooseCognito, DEMO_USER } from '../sample/cognito-backend.js';
import { cookiePairs, get } from './support/app.js';

describe('sample app', () => {
  it('signs the demo user in against the local Cognito, shows the profile, and signs out', async () => {
    delete process.env.COGNITO_USER_POOL_ID;
    // The registered URLs use a placeholder port; requests go to the real one.
    const cognito = await chooseCognito('http://127.0.0.1:3999');
    const app = await NestFactory.create(AppModule.register(cognito.options), { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      assert.match((await get(`${url}/`)).body, /href="\/auth\/login"/);
      assert.equal((await get(`${url}/me`)).location, '/auth/login?returnTo=%2Fme');

      const browser = new HostedUiBrowser();
      const login = await get(`${url}/auth/login`);
      const redirect = await browser.signIn(login.location!, DEMO_USER);
      const callback = await get(`${url}${redirect.pathname}${redirect.search}`, cookiePairs(login.setCookies));
      assert.equal(callback.location, '/me');
      const session = cookiePairs(callback.setCookies);

      const profile = await get(`${url}/me`, session);
      assert.equal(profile.status, 200);
      assert.match(profile.body, /Signed in as <span data-testid="username">alice<\/span>/);
      assert.match(profile.body, /<dd data-testid="email">alice@example.com<\/dd>/);
      assert.match(profile.body, /<dd data-testid="groups">admin<\/dd>/);
      assert.match((await get(`${url}/`, session)).body, /Signed in as <strong>alice<\/strong>/);

      const logout = await fetch(`${url}/auth/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: session.join('; ') } });
      assert.equal(logout.status, 302);
      const hostedLogout = await fetch(logout.headers.get('location')!, { redirect: 'manual' });
      assert.equal(hostedLogout.headers.get('location'), 'http://127.0.0.1:3999/signed-out');
      assert.match((await get(`${url}/signed-out`)).body, /You are signed out/);

      const failed = await get(`${url}${redirect.pathname}${redirect.search}`);
      assert.equal(failed.location, '/login-error?error=login_cookie_missing');
      assert.match((await get(`${url}${failed.location}`)).body, /Reason: <code>login_cookie_missing<\/code>/);
    } finally {
      await app.close();
      await cognito.stop();
    }
  });
});
