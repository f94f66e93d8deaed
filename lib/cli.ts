#!/usr/bin/env node
/**
 * `npx nestjs-cognito-lowlevel local-cognito`: a local Cognito user pool for development, for an
 * app running in another terminal. Prints the `COGNITO_*` lines for the app's `.env` and logs
 * each sign-in. Keeps its keys, users and sessions in `.local-cognito/` by default, so it can be
 * restarted without signing anyone out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCognito } from './testing/local-cognito.js';
import type { LocalCognitoClient, LocalCognitoUser } from './testing/local-cognito-options.interface.js';

const USAGE = `Usage: npx nestjs-cognito-lowlevel local-cognito [options]

Runs a local Cognito user pool (Hosted UI, token endpoint, JWKS) on 127.0.0.1.

Options:
  --port <n>              port to listen on (default: the one kept in the data directory, else 9000; 0 for any free port)
  --user-pool-id <id>     user pool id (default: eu-west-2_LocalPool1)
  --users <file>          JSON array of users: [{ "username", "password", "email"?, "groups"?, "attributes"? }]
                          (default: the users kept in the data directory, else alice / alice-password)
  --clients <file>        JSON array of app clients: [{ "clientId", "clientSecret"?, "redirectUris", "logoutUris"? }]
  --client-id <id>        the app client, when --clients is not given (default: localapp)
  --client-secret <s>     its secret (default: none, a public client)
  --redirect-uri <url>    its callback URL, repeatable (default: http://localhost:3000/auth/callback)
  --logout-uri <url>      its sign-out URL, repeatable
  --data-dir <dir>        where keys, users and sessions are kept across restarts (default: .local-cognito)
  --ephemeral             keep nothing: every start is a new pool
  --token-lifetime <s>    lifetime of ID and access tokens, seconds (default: 3600)
  -h, --help              this text
`;

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new Error(`cannot read ${what} from ${file}: ${(error as Error).message}`);
  }
}

async function localCognito(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      'user-pool-id': { type: 'string' },
      users: { type: 'string' },
      clients: { type: 'string' },
      'client-id': { type: 'string', default: 'localapp' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'logout-uri': { type: 'string', multiple: true },
      'data-dir': { type: 'string', default: '.local-cognito' },
      ephemeral: { type: 'boolean', default: false },
      'token-lifetime': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new Error(`--port must be a port number, not "${values.port}"`);
  const clients: LocalCognitoClient[] = values.clients
    ? readJson(values.clients, 'clients')
    : [
        {
          clientId: values['client-id']!,
          clientSecret: values['client-secret'],
          redirectUris: values['redirect-uri'] ?? ['http://localhost:3000/auth/callback'],
          logoutUris: values['logout-uri'],
        },
      ];
  const dataDir = values.ephemeral ? undefined : resolve(values['data-dir']!);
  const kept = dataDir !== undefined && existsSync(join(dataDir, 'local-cognito.json'));
  // Without a users file: the users kept in the data directory, else one to sign in with.
  const users: LocalCognitoUser[] | undefined = values.users
    ? readJson(values.users, 'users')
    : kept
      ? undefined
      : [{ username: 'alice', password: 'alice-password', email: 'alice@example.com' }];
  const cognito = await LocalCognito.start({
    userPoolId: values['user-pool-id'],
    users,
    clients,
    // The port kept in the data directory, so apps configured for it keep working.
    port: port ?? (kept ? undefined : 9000),
    dataDir,
    tokenLifetimeSeconds: values['token-lifetime'] === undefined ? undefined : Number(values['token-lifetime']),
    onSignIn: ({ username, clientId }) => console.log(`${new Date().toISOString()}  ${username} signed in (app client ${clientId})`),
  });

  // Before anything is printed: whoever reads the output may stop it at once.
  const stop = () => {
    cognito.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const [client] = clients;
  const region = cognito.userPoolId.split('_')[0];
  const lines = [
    `COGNITO_USER_POOL_ID=${cognito.userPoolId}`,
    `COGNITO_USERPOOL_REGION=${region}`,
    `COGNITO_CLIENT_ID=${client.clientId}`,
    ...(client.clientSecret ? [`COGNITO_APP_CLIENT_SECRET=${client.clientSecret}`] : []),
    `COGNITO_HOST=${cognito.url}`,
    `COGNITO_ISSUER=${cognito.issuer}`,
    `COGNITO_REDIRECT_URL=${client.redirectUris[0]}`,
    ...(client.logoutUris?.length ? [`COGNITO_LOGOUT_URL=${client.logoutUris[0]}`] : []),
  ];
  console.log(`Local Cognito (user pool ${cognito.userPoolId}) at ${cognito.url}${dataDir ? `, kept in ${dataDir}` : ''}`);
  console.log('\nFor your app\'s .env (plus COGNITO_COOKIE_SECRET, e.g. openssl rand -base64 32):\n');
  console.log(lines.join('\n'));
  console.log(`\nUsers: ${cognito.users.map((user) => `${user.username} / ${user.password}`).join(', ')}`);
  console.log('Sign-ins are logged below. Ctrl-C stops.\n');

}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'local-cognito') return localCognito(rest);
  process.stdout.write(USAGE);
  if (command !== undefined && command !== '--help' && command !== '-h') {
    process.stderr.write(`\nUnknown command "${command}"\n`);
    process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`nestjs-cognito-lowlevel: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
