import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCognito } from '../lib/testing/index.js';
import { createSampleApp } from './app.module.js';
import { DEMO_USER } from './cognito-backend.js';

/**
 * `npm run start:fleet`: the sample twice (PORT and PORT + 1, default 3000 and 3001) against one
 * local Cognito and one Redis, sharing the cookie secret, as a fleet behind a load balancer would.
 * A browser sends the same cookies to both ports of 127.0.0.1: sign in on one, sign out on the
 * other, and the first refuses the session at once. Redis: COGNITO_REDIS_URL, or Debian's
 * redis-server started here on a free port (REDIS_SERVER to use another binary).
 */
async function main(): Promise<void> {
  const logger = new Logger('Sample');
  const basePort = Number(process.env.PORT ?? 3000);
  const ports = [basePort, basePort + 1];
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const redis = process.env.COGNITO_REDIS_URL ? undefined : await startRedis();
  const redisUrl = process.env.COGNITO_REDIS_URL ?? redis!.url;

  const clientSecret = randomBytes(24).toString('base64url');
  const cognito = await LocalCognito.start({
    users: [DEMO_USER],
    clients: [{ clientId: 'sampleapp', clientSecret, redirectUris: urls.map((url) => `${url}/auth/callback`), logoutUris: urls.map((url) => `${url}/signed-out`) }],
  });
  const cookieSecret = randomBytes(32).toString('base64url');
  const apps = await Promise.all(
    urls.map(async (url, index) => {
      const app = await createSampleApp({
        ...cognito.moduleOptions('sampleapp'),
        redirectUri: `${url}/auth/callback`,
        logoutUri: `${url}/signed-out`,
        cookieSecret,
        successRedirect: '/me',
        errorRedirect: '/login-error',
        sessionIncludeIdToken: true,
        redisUrl,
      });
      await app.listen(ports[index], '127.0.0.1');
      return app;
    }),
  );
  logger.log(`Local Cognito at ${cognito.url} (user "${DEMO_USER.username}", password "${DEMO_USER.password}"); Redis ${redis === undefined ? 'from COGNITO_REDIS_URL' : `on port ${redis.port}`}`);
  logger.log(`Two instances: ${urls.join(' and ')}. Sign in on one, sign out on the other.`);
  const stop = async () => {
    await Promise.all(apps.map((app) => app.close()));
    await cognito.stop();
    redis?.process.kill();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** A redis-server of our own: 127.0.0.1, a free port, nothing written to disk. */
async function startRedis(): Promise<{ url: string; port: number; process: ChildProcess }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const binary = process.env.REDIS_SERVER ?? 'redis-server';
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.once('error', () => reject(new Error(`${binary} could not be started: install it (apt-get install -y redis-server) or set COGNITO_REDIS_URL`))));
  process.once('exit', () => child.kill());
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await Promise.race([answers(port), failed])) return { url: `redis://127.0.0.1:${port}`, port, process: child };
    await sleep(50);
  }
  throw new Error(`${binary} did not answer on port ${port}`);
}

async function answers(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
