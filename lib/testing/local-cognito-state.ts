import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonWebKey } from 'node:crypto';
import type { LocalCognitoUser } from './local-cognito-options.interface.js';
import type { StoredEntry } from './memory-adapter.js';

/** A private signing key as a JWK, with its `kid`. @internal */
export type SigningJwk = JsonWebKey & { kid: string };

/**
 * What a local Cognito with `dataDir` keeps between runs: enough that a restarted one is the
 * same user pool to the apps that use it (same URL, same keys, same sessions and refresh
 * tokens), and that its users need not be given again.
 *
 * @internal
 */
export interface LocalCognitoState {
  version: 1;
  port: number;
  keys: { id: SigningJwk; access: SigningJwk };
  /** oidc-provider's cookie keys: its Hosted UI sessions survive too. */
  cookieKeys: string[];
  users: LocalCognitoUser[];
  storage: [string, StoredEntry][];
}

const FILE = 'local-cognito.json';

/** @internal */
export function loadState(dir: string): LocalCognitoState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, FILE), 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as LocalCognitoState;
  if (state?.version !== 1 || typeof state.keys?.id?.kid !== 'string' || typeof state.keys?.access?.kid !== 'string') {
    throw new Error(`${join(dir, FILE)} was not written by this version of LocalCognito: delete it to start afresh`);
  }
  return state;
}

/**
 * Writes the state atomically (a reader never sees half a file), readable by its owner only: it
 * holds private keys and passwords, for local use. Keep the directory out of version control.
 *
 * @internal
 */
export function saveState(dir: string, state: LocalCognitoState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, FILE);
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(state), { mode: 0o600 });
  renameSync(partial, file);
}
