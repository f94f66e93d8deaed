import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { Browser, Page } from 'playwright-core';
import { createSampleApp } from '../sample/app.module.js';
import { chooseCognito, DEMO_USER } from '../sample/cognito-backend.js';
import { launchChromium } from './support/chromium.js';
import { closedPort } from './support/servers.js';

const OUTPUT = join(process.cwd(), 'test-output', 'browser');

describe('the sample in a real browser (headless Chromium)', () => {
  let browser: Browser;
  let app: INestApplication;
  let cognito: Awaited<ReturnType<typeof chooseCognito>>;
  let appUrl: string;
  let page: Page;
  let shot = 0;
  const screenshot = async (name: string) => {
    shot += 1;
    await page.screenshot({ path: join(OUTPUT, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  };

  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    delete process.env.COGNITO_USER_POOL_ID;
    // The browser follows real redirects, so the callback URL must name the real port.
    appUrl = `http://127.0.0.1:${await closedPort()}`;
    cognito = await chooseCognito(appUrl);
    app = await createSampleApp(cognito.options, undefined, { logger: false, abortOnError: false });
    await app.listen(Number(new URL(appUrl).port), '127.0.0.1');
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await cognito?.stop();
  });

  it('signs in, keeps the session over a reload, calls the API, signs out, and asks for the password again', async () => {
    await page.goto(`${appUrl}/`);
    await screenshot('home');
    await page.getByRole('link', { name: 'Sign in' }).click();

    await page.waitForURL((url) => url.pathname.startsWith('/login/'));
    assert.match(await page.title(), /Sign in - local Cognito/);
    await page.getByLabel('Username').fill(DEMO_USER.username);
    await page.getByLabel('Password').fill(DEMO_USER.password);
    await screenshot('hosted-ui-login');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL(`${appUrl}/me`);
    assert.equal(await page.getByTestId('username').textContent(), 'alice');
    assert.equal(await page.getByTestId('email').textContent(), 'alice@example.com');
    assert.equal(await page.getByTestId('groups').textContent(), 'admin');
    await screenshot('signed-in');

    await page.reload();
    assert.equal(await page.getByTestId('username').textContent(), 'alice', 'the session survives a reload');

    await page.getByRole('button', { name: 'Call the protected API' }).click();
    await page.getByTestId('api-result').filter({ hasText: '200' }).waitFor();
    assert.match((await page.getByTestId('api-result').textContent())!, /^200 [\s\S]*"username": "alice"/);
    await screenshot('api-called');

    // The live page: a socket.io connection authenticated by the session cookie, a clock for admins.
    await page.getByRole('link', { name: 'Live page' }).click();
    await page.waitForURL(`${appUrl}/live`);
    await page.getByTestId('connection').filter({ hasText: /^connected$/ }).waitFor();
    await page.getByTestId('presence').getByText('alice').waitFor();
    await page.getByRole('button', { name: 'What time is it? (admin group)' }).click();
    await page.getByTestId('clock-result').filter({ hasText: / for alice$/ }).waitFor();
    assert.match((await page.getByTestId('clock-result').textContent())!, /^\d{4}-\d\d-\d\dT[\d:.]+Z for alice$/);
    await screenshot('live');
    await page.goBack();

    await page.getByRole('link', { name: 'Admin page' }).click();
    await page.waitForURL(`${appUrl}/admin`);
    assert.match((await page.textContent('h1'))!, /Admin area/);
    await screenshot('admin');
    await page.goBack();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${appUrl}/signed-out`);
    await screenshot('signed-out');
    const cookies = await page.context().cookies(appUrl);
    assert.deepEqual(cookies.filter((cookie) => cookie.name.startsWith('cognito-session.')), []);

    // The Hosted UI session ended too: signing in again shows the form instead of coming straight back.
    await page.goto(`${appUrl}/me`);
    await page.waitForURL((url) => url.pathname.startsWith('/login/'));
    assert.ok(await page.getByLabel('Password').isVisible());
    await screenshot('login-again');
  });
});
