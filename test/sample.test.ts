import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostedUiBrowser } from '../lib/testing/index.js';
import { createSampleApp } from '../sample/app.module.js';
import { chooseCognito, DEMO_USER } from '../sample/cognito-backend.js';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { cookiePairs, get, PLATFORMS } from './support/app.js';

for (const platform of PLATFORMS) describe(`sample app (${platform})`, () => {
  it('signs the demo user in against the local Cognito, shows the profile, guards the API and admin page, and signs out', async () => {
    delete process.env.COGNITO_USER_POOL_ID;
    // The registered URLs use a placeholder port; requests go to the real one.
    const cognito = await chooseCognito('http://127.0.0.1:3999');
    const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
    const app = await createSampleApp(cognito.options, adapter, { logger: false, abortOnError: false });
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

      // The protected API (scope "profile") and page (group "admin"), through the global guard.
      const api = await get(`${url}/api/me`, session);
      assert.equal(api.status, 200);
      assert.deepEqual(JSON.parse(api.body), { sub: JSON.parse(api.body).sub, username: 'alice', groups: ['admin'], scope: 'openid email profile' });
      const anonymous = await fetch(`${url}/api/me`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer'); // RFC 6750 §3.1: no error code without credentials
      assert.match((await get(`${url}/admin`, session)).body, /Welcome, alice/);
      assert.equal((await get(`${url}/admin`)).status, 401);
      const bearer = (token: string) => fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await bearer(await cognito.local!.mintAccessToken({ username: 'bot', scopes: ['profile'] }))).status, 200);
      const noScope = await bearer(await cognito.local!.mintAccessToken({ scopes: ['openid'] }));
      assert.equal(noScope.status, 403);
      assert.match(noScope.headers.get('www-authenticate')!, /error="insufficient_scope".*scope="profile"/);
      assert.equal((await fetch(`${url}/admin`, { headers: { authorization: `Bearer ${await cognito.local!.mintAccessToken({ groups: ['staff'] })}` } })).status, 403);

      const logout = await fetch(`${url}/auth/logout`, { method: 'POST', redirect: 'manual', body: '', headers: { cookie: session.join('; '), 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' } });
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
