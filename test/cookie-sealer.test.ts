import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { resolveCognitoConfig } from '../lib/config/resolve-cognito-config.js';
import { CookieSealer } from '../lib/http/cookie-sealer.js';
import { COOKIE_SECRET, baseOptions } from './support/module.js';

const sealer = new CookieSealer(resolveCognitoConfig(baseOptions()));
/** The key the sealer derives for session cookies from COOKIE_SECRET (the documented derivation). */
const sessionKey = new Uint8Array(hkdfSync('sha256', COOKIE_SECRET, 'nestjs-cognito-lowlevel', 'session-v1', 32));
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const envelope = (data: unknown, ttl = 60) => ({ exp: Math.floor(Date.now() / 1000) + ttl, data });

/** Seals with raw node:crypto under any protected header, to build what jose refuses to. */
function sealWithHeader(header: object, plaintext: string, key = sessionKey): string {
  const protectedHeader = Buffer.from(JSON.stringify(header)).toString('base64url');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(protectedHeader, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [protectedHeader, '', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

describe('CookieSealer (JWE compact, dir + A256GCM, on node:crypto)', () => {
  it('opens what it seals, and its seals are standard JWE that jose opens', async () => {
    const sealed = sealer.seal('session', { user: 'alice' }, 60);
    assert.deepEqual(sealer.open('session', sealed), { user: 'alice' });
    const { plaintext, protectedHeader } = await compactDecrypt(sealed, sessionKey);
    assert.deepEqual(protectedHeader, { alg: 'dir', enc: 'A256GCM' });
    assert.deepEqual(JSON.parse(new TextDecoder().decode(plaintext)).data, { user: 'alice' });
  });

  it('still opens cookies sealed by earlier versions (through jose, with or without a kid)', async () => {
    for (const header of [{ alg: 'dir', enc: 'A256GCM' }, { alg: 'dir', enc: 'A256GCM', kid: 'k1' }]) {
      const sealed = await new CompactEncrypt(encode(envelope({ old: true }))).setProtectedHeader(header).encrypt(sessionKey);
      assert.deepEqual(sealer.open('session', sealed), { old: true }, JSON.stringify(header));
    }
  });

  it('keeps each purpose apart: a session seal does not open as login state, nor what is kept in Redis as a session cookie', () => {
    assert.equal(sealer.open('login-state', sealer.seal('session', { user: 'alice' }, 60)), undefined);
    const purposes = ['login-state', 'session', 'fleet-refresh', 'redis-session'] as const;
    for (const sealedAs of purposes) {
      const sealed = sealer.seal(sealedAs, { at: 'token' }, 60);
      for (const openedAs of purposes) assert.equal(sealer.open(openedAs, sealed) === undefined, openedAs !== sealedAs, `${sealedAs} opened as ${openedAs}`);
    }
  });

  it('refuses headers that ask for another algorithm, compression or critical extensions, even under the right key', () => {
    const plaintext = JSON.stringify(envelope({ user: 'alice' }));
    assert.deepEqual(sealer.open('session', sealWithHeader({ alg: 'dir', enc: 'A256GCM' }, plaintext)), { user: 'alice' });
    for (const header of [
      { alg: 'dir', enc: 'A128GCM' },
      { alg: 'A256KW', enc: 'A256GCM' },
      { alg: 'dir', enc: 'A256GCM', zip: 'DEF' },
      { alg: 'dir', enc: 'A256GCM', crit: ['exp'], exp: 1 },
      [],
    ]) {
      assert.equal(sealer.open('session', sealWithHeader(header, plaintext)), undefined, JSON.stringify(header));
    }
  });

  it('refuses a seal with an encrypted key part, a short IV or tag, or a non-canonical spelling of any part', () => {
    const sealed = sealer.seal('session', { user: 'alice' }, 60);
    const [header, , iv, ciphertext, tag] = sealed.split('.');
    // The last character of a 16-byte tag carries 4 unused bits: another character with the same
    // first two bits decodes to the same bytes, and must still be refused.
    const last = tag.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[(alphabet.indexOf(last) & ~15) | ((alphabet.indexOf(last) + 1) & 15)];
    assert.deepEqual(Buffer.from(tag.slice(0, -1) + sibling, 'base64url'), Buffer.from(tag, 'base64url'));
    for (const [name, value] of [
      ['encrypted key', [header, 'AAAA', iv, ciphertext, tag]],
      ['short IV', [header, '', iv.slice(0, 12), ciphertext, tag]],
      ['short tag', [header, '', iv, ciphertext, tag.slice(0, 16)]],
      ['non-canonical tag', [header, '', iv, ciphertext, tag.slice(0, -1) + sibling]],
      ['padded tag', [header, '', iv, ciphertext, `${tag}==`]],
      ['four parts', [header, iv, ciphertext, tag]],
    ] as const) {
      assert.equal(sealer.open('session', value.join('.')), undefined, name);
    }
  });

  it('answers "expired" for a seal past its expiry, and nothing for a seal without one', () => {
    assert.equal(sealer.open('session', sealWithHeader({ alg: 'dir', enc: 'A256GCM' }, JSON.stringify(envelope('x', -1)))), 'expired');
    assert.equal(sealer.open('session', sealWithHeader({ alg: 'dir', enc: 'A256GCM' }, JSON.stringify({ data: 'x' }))), undefined);
    assert.equal(sealer.open('session', sealWithHeader({ alg: 'dir', enc: 'A256GCM' }, 'not json')), undefined);
  });
});
