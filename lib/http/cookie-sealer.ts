import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';

/** What a cookie holds; each purpose gets its own key, so one cookie can never pass for another. @internal */
/**
 * What a sealed value is for; each purpose has keys of its own, so a value sealed for one never
 * opens as another (a refresh result or server-side session read out of Redis is no cookie).
 */
export type CookiePurpose = 'login-state' | 'session' | 'fleet-refresh' | 'redis-session';

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
    this.keys = new Map((['login-state', 'session', 'fleet-refresh', 'redis-session'] as const).map((purpose) => [purpose, derive(purpose)]));
  }

  /** Seals `data` so that only `open` (with one of the cookie secrets) can read it, until `ttlSeconds` pass. */
  seal(purpose: CookiePurpose, data: unknown, ttlSeconds: number): string {
    const [key] = this.keys.get(purpose)!;
    const envelope: Envelope = { exp: Math.floor(Date.now() / 1000) + ttlSeconds, data };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES }).setAAD(PROTECTED_HEADER_AAD);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(envelope), 'utf8'), cipher.final()]);
    return `${PROTECTED_HEADER}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  /**
   * The sealed data, `'expired'`, or `undefined` when the value was not sealed by us (altered,
   * foreign, truncated). Synchronous: a session cookie is opened on every request, and
   * node:crypto's AES-GCM costs a few microseconds where a WebCrypto round trip costs more.
   */
  open(purpose: CookiePurpose, sealed: string): unknown | 'expired' | undefined {
    const opened = this.openWithExpiry(purpose, sealed);
    return typeof opened === 'object' ? opened.data : opened;
  }

  /** As `open`, with the seal's expiry (epoch seconds) beside the data. */
  openWithExpiry(purpose: CookiePurpose, sealed: string): { data: unknown; expiresAt: number } | 'expired' | undefined {
    if (sealed.length === 0 || sealed.length > 64 * 1024) return undefined;
    const parts = parseCompactJwe(sealed);
    if (parts === undefined) return undefined;
    for (const key of this.keys.get(purpose)!) {
      const plaintext = decrypt(key, parts);
      if (plaintext === undefined) continue; // not this key's, or not ours at all
      try {
        const envelope = JSON.parse(plaintext) as Envelope;
        if (typeof envelope?.exp !== 'number') return undefined;
        return envelope.exp <= Math.floor(Date.now() / 1000) ? 'expired' : { data: envelope.data, expiresAt: envelope.exp };
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}

/**
 * The JWE protected header of every seal (`{"alg":"dir","enc":"A256GCM"}`), and the
 * additional authenticated data it becomes (RFC 7516, 5.1: the ASCII of its base64url form).
 */
const PROTECTED_HEADER = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM' })).toString('base64url');
const PROTECTED_HEADER_AAD = Buffer.from(PROTECTED_HEADER, 'ascii');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

interface CompactJwe {
  aad: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * Splits a compact JWE and checks its shape: `dir` (no encrypted key), `A256GCM`, no other
 * processing asked for (`zip`, `crit`), a 96-bit IV and a 128-bit tag, every part in
 * canonical base64url (so one seal has exactly one spelling). Seals made by earlier versions
 * (through jose, some with a `kid`) have this shape too, so they still open.
 */
function parseCompactJwe(sealed: string): CompactJwe | undefined {
  const segments = sealed.split('.');
  if (segments.length !== 5) return undefined;
  const [header, encryptedKey, iv, ciphertext, tag] = segments;
  if (encryptedKey !== '' || !segments.every((segment) => BASE64URL.test(segment))) return undefined;
  let parsed: unknown;
  try {
    parsed = header === PROTECTED_HEADER ? undefined : JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed !== undefined) {
    const fields = parsed as Record<string, unknown>;
    if (typeof parsed !== 'object' || parsed === null || fields.alg !== 'dir' || fields.enc !== 'A256GCM' || 'zip' in fields || 'crit' in fields) return undefined;
  }
  const decoded = { aad: Buffer.from(header, 'ascii'), iv: Buffer.from(iv, 'base64url'), ciphertext: Buffer.from(ciphertext, 'base64url'), tag: Buffer.from(tag, 'base64url') };
  if (decoded.iv.length !== IV_BYTES || decoded.tag.length !== TAG_BYTES) return undefined;
  if (decoded.ciphertext.toString('base64url') !== ciphertext || decoded.tag.toString('base64url') !== tag || decoded.iv.toString('base64url') !== iv) return undefined;
  return decoded;
}

function decrypt(key: Uint8Array, { aad, iv, ciphertext, tag }: CompactJwe): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES }).setAAD(aad).setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return undefined; // the tag did not verify
  }
}
