import { Inject, Injectable } from '@nestjs/common';
import { hkdfSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';

/** What a cookie holds; each purpose gets its own key, so one cookie can never pass for another. @internal */
export type CookiePurpose = 'login-state' | 'session';

interface Envelope {
  /** Expiry, epoch seconds: checked on open, whatever the browser did with Max-Age. */
  exp: number;
  data: unknown;
}

/**
 * Encrypts and authenticates cookie values (JWE compact, `dir` + `A256GCM`) with keys
 * derived from the cookie secrets by HKDF. The first secret seals; every secret opens,
 * so a secret can be rotated without logging anyone out. The header names no key: an
 * identifier derived from the key would let an attacker test guesses of a weak secret
 * against it more cheaply than against the ciphertext, so opening tries each key (the
 * rotation list is short, and a wrong key fails at the GCM tag).
 *
 * @internal
 */
@Injectable()
export class CookieSealer {
  private readonly keys: Map<CookiePurpose, Uint8Array[]>;

  constructor(@Inject(COGNITO_CONFIG) config: CognitoConfig) {
    const derive = (purpose: CookiePurpose) =>
      config.cookieSecrets.map((secret) => new Uint8Array(hkdfSync('sha256', secret, 'nestjs-cognito-lowlevel', `${purpose}-v1`, 32)));
    this.keys = new Map([
      ['login-state', derive('login-state')],
      ['session', derive('session')],
    ]);
  }

  async seal(purpose: CookiePurpose, data: unknown, ttlSeconds: number): Promise<string> {
    const [key] = this.keys.get(purpose)!;
    const envelope: Envelope = { exp: Math.floor(Date.now() / 1000) + ttlSeconds, data };
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(envelope))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
  }

  /** The sealed data, `'expired'`, or `undefined` when the value was not sealed by us (altered, foreign, truncated). */
  async open(purpose: CookiePurpose, sealed: string): Promise<unknown | 'expired' | undefined> {
    if (sealed.length === 0 || sealed.length > 64 * 1024) return undefined;
    for (const key of this.keys.get(purpose)!) {
      let plaintext: Uint8Array;
      try {
        ({ plaintext } = await compactDecrypt(sealed, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] }));
      } catch {
        continue; // not this key's, or not ours at all
      }
      try {
        const envelope = JSON.parse(new TextDecoder().decode(plaintext)) as Envelope;
        if (typeof envelope?.exp !== 'number') return undefined;
        return envelope.exp <= Math.floor(Date.now() / 1000) ? 'expired' : envelope.data;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}
