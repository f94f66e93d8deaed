import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createSampleApp } from './app.module.js';
import { chooseCognito } from './cognito-backend.js';

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const appUrl = process.env.APP_URL ?? `http://127.0.0.1:${port}`;
  const cognito = await chooseCognito(appUrl);
  const app = await createSampleApp(cognito.options);
  app.enableShutdownHooks();
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  const logger = new Logger('Sample');
  logger.log(`Using ${cognito.description}`);
  logger.log(`Open ${appUrl}/ and click "Sign in"`);
  const stop = async () => {
    await app.close();
    await cognito.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
