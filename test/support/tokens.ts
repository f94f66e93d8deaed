import { createSign, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { json, startServer, type ScriptedServer } from './servers.js';

export const CLIENT_ID = 'testclient123';
export const POOL_ID = 'eu-west-2_TestPool1';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: JsonWebKey;
}

export function makeKey(kid: string, modulusLength = 2048): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** A JWKS endpoint whose key set a test can change while it runs. */
export interface JwksServer extends ScriptedServer {
  issuer: string;
  jwksUri: string;
  /** Replaces the published key set (rotation). */
  setKeys(keys: JsonWebKey[]): void;
}

export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const state = { keys: keys.map((key) => key.jwk) };
  const server = await startServer((req, res) => json(res, 200, { keys: state.keys }));
  const issuer = `${server.url}/${POOL_ID}`;
  return Object.assign(server, {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    setKeys(keys: JsonWebKey[]) {
      state.keys = keys;
    },
  });
}

/** Signs Cognito-shaped tokens; `claims` override or (with undefined) remove defaults. */
export async function mint(
  key: SigningKey,
  issuer: string,
  tokenUse: 'id' | 'access',
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> =
    tokenUse === 'id'
      ? { sub: 'user-sub-1', aud: CLIENT_ID, 'cognito:username': 'alice', email: 'alice@example.com', email_verified: true }
      : { sub: 'user-sub-1', client_id: CLIENT_ID, scope: 'openid email', username: 'alice', version: 2 };
  const payload: Record<string, unknown> = { ...base, iss: issuer, token_use: tokenUse, iat: now, exp: now + 3600, auth_time: now };
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined) delete payload[name];
    else payload[name] = value;
  }
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header }).sign(key.privateKey);
}

/** Signs any header and payload with RS256 by hand, for headers jose refuses to produce. */
export function signRaw(key: SigningKey, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key.privateKey).toString('base64url')}`;
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}
