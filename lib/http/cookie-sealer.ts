import { Inject, Injectable } from '@nestjs/common';
import { createHash, hkdfSync } from 'node:crypto';
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
 * so a secret can be rotated without logging anyone out.
 *
 * @internal
 */
@Injectable()
export class CookieSealer {
  private readonly keys: Map<CookiePurpose, { kid: string; key: Uint8Array }[]>;

  constructor(@Inject(COGNITO_CONFIG) config: CognitoConfig) {
    const derive = (purpose: CookiePurpose) =>
      config.cookieSecrets.map((secret) => {
        const key = new Uint8Array(hkdfSync('sha256', secret, 'nestjs-cognito-lowlevel', `${purpose}-v1`, 32));
        return { kid: createHash('sha256').update(key).digest('base64url').slice(0, 8), key };
      });
    this.keys = new Map([
      ['login-state', derive('login-state')],
      ['session', derive('session')],
    ]);
  }

  async seal(purpose: CookiePurpose, data: unknown, ttlSeconds: number): Promise<string> {
    const [{ kid, key }] = this.keys.get(purpose)!;
    const envelope: Envelope = { exp: Math.floor(Date.now() / 1000) + ttlSeconds, data };
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(envelope)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .encrypt(key);
  }

  /** The sealed data, `'expired'`, or `undefined` when the value was not sealed by us (altered, foreign, truncated). */
  async open(purpose: CookiePurpose, sealed: string): Promise<unknown | 'expired' | undefined> {
    if (sealed.length === 0 || sealed.length > 64 * 1024) return undefined;
    const candidates = this.keys.get(purpose)!;
    try {
      const { plaintext } = await compactDecrypt(sealed, (header) => (candidates.find((entry) => entry.kid === header.kid) ?? candidates[0]).key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      const envelope = JSON.parse(new TextDecoder().decode(plaintext)) as Envelope;
      if (typeof envelope?.exp !== 'number') return undefined;
      return envelope.exp <= Math.floor(Date.now() / 1000) ? 'expired' : envelope.data;
    } catch {
      return undefined;
    }
  }
}
