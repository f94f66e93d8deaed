// Direct tests of the token helpers: how a compact JWS is split and refused, the header
// memo, deepFreeze, and the constant-time comparison.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameString } from '../../lib/tokens/constant-time.util.js';
import { deepFreeze, parseJwt } from '../../lib/tokens/jwt.util.js';

const part = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const HEADER = part({ alg: 'RS256', kid: 'k1' });
const PAYLOAD = part({ sub: 'alice', n: 1 });
const SIGNATURE = Buffer.from('signature bytes!').toString('base64url');

function malformed(token: unknown, detail: string) {
  assert.throws(() => parseJwt(token), (error: unknown) => {
    const { code, message } = error as { code: string; message: string };
    assert.equal(code, 'ERR_JWT_MALFORMED');
    assert.equal(message, `Malformed token: ${detail}`);
    return true;
  });
}

describe('parseJwt', () => {
  it('splits a token into header, payload, signing input and signature', () => {
    const parsed = parseJwt(`${HEADER}.${PAYLOAD}.${SIGNATURE}`);
    assert.deepEqual(parsed.header, { alg: 'RS256', kid: 'k1' });
    assert.deepEqual(parsed.payload, { sub: 'alice', n: 1 });
    assert.equal(parsed.signingInput, `${HEADER}.${PAYLOAD}`);
    assert.deepEqual(parsed.signature, Buffer.from('signature bytes!'));
    assert.ok(Object.isFrozen(parsed.header));
  });

  const refused: [label: string, token: unknown, detail: string][] = [
    ['a number', 42, 'the token is not a non-empty string'],
    ['undefined', undefined, 'the token is not a non-empty string'],
    ['an empty string', '', 'the token is not a non-empty string'],
    ['one part', 'abc', 'a JWT has three dot-separated parts'],
    ['two parts', `${HEADER}.${PAYLOAD}`, 'a JWT has three dot-separated parts'],
    ['four parts', `${HEADER}.${PAYLOAD}.${SIGNATURE}.x`, 'a JWT has three dot-separated parts'],
    ['an empty header', `.${PAYLOAD}.${SIGNATURE}`, 'a JWT part is empty'],
    ['an empty payload', `${HEADER}..${SIGNATURE}`, 'a JWT part is empty'],
    ['an empty signature', `${HEADER}.${PAYLOAD}.`, 'a JWT part is empty'],
    ['a signature with +', `${HEADER}.${PAYLOAD}.${SIGNATURE}+`, 'the signature is not canonical base64url'],
    ['a signature in base64 (/)', `${HEADER}.${PAYLOAD}.ab/c`, 'the signature is not canonical base64url'],
    ['a padded signature', `${HEADER}.${PAYLOAD}.${part('ab')}=`, 'the signature is not canonical base64url'],
    ['a signature with unused bits set', `${HEADER}.${PAYLOAD}.${part('ab').slice(0, -1)}z`, 'the signature is not canonical base64url'],
    ['a header that is not JSON', `${part('{nope')}.${PAYLOAD}.${SIGNATURE}`, 'the header is not JSON'],
    ['a payload that is not JSON', `${HEADER}.${part('nope')}.${SIGNATURE}`, 'the payload is not JSON'],
    ['a header that is an array', `${part([1])}.${PAYLOAD}.${SIGNATURE}`, 'the header is not a JSON object'],
    ['a payload that is null', `${HEADER}.${part('null')}.${SIGNATURE}`, 'the payload is not a JSON object'],
    ['a payload that is a number', `${HEADER}.${part('7')}.${SIGNATURE}`, 'the payload is not a JSON object'],
    ['a payload that is a string', `${HEADER}.${part('"x"')}.${SIGNATURE}`, 'the payload is not a JSON object'],
  ];
  for (const [label, token, detail] of refused) {
    it(`refuses ${label}`, () => malformed(token, detail));
  }

  it('accepts 64 KiB and refuses one character more', () => {
    const exact = `${HEADER}.${'A'.repeat(64 * 1024 - HEADER.length - SIGNATURE.length - 2)}.${SIGNATURE}`;
    assert.equal(exact.length, 64 * 1024);
    malformed(exact, 'the payload is not JSON'); // past the length check
    malformed(`${exact}A`, 'the token is too long');
  });

  it('shares one frozen header between tokens with the same header part', () => {
    const a = parseJwt(`${HEADER}.${PAYLOAD}.${SIGNATURE}`);
    const b = parseJwt(`${HEADER}.${part({ sub: 'bob' })}.${SIGNATURE}`);
    assert.equal(a.header, b.header);
    assert.notEqual(a.payload, b.payload);
  });

  it('does not remember headers over 512 characters', () => {
    const long = part({ alg: 'RS256', kid: 'k'.repeat(400) });
    assert.ok(long.length > 512);
    const fits = part({ alg: 'RS256', kid: 'k'.repeat(360) });
    assert.ok(fits.length <= 512);
    assert.notEqual(parseJwt(`${long}.${PAYLOAD}.${SIGNATURE}`).header, parseJwt(`${long}.${PAYLOAD}.${SIGNATURE}`).header);
    assert.equal(parseJwt(`${fits}.${PAYLOAD}.${SIGNATURE}`).header, parseJwt(`${fits}.${PAYLOAD}.${SIGNATURE}`).header);
  });

  it('remembers at most 64 headers, then starts again', () => {
    const headerOf = (name: string) => part({ alg: 'RS256', kid: `memo-${name}` });
    const parse = (header: string) => parseJwt(`${header}.${PAYLOAD}.${SIGNATURE}`).header;
    // Bring the memo to a known state: new headers until it starts again, seen through a probe.
    let probe = parse(headerOf('probe'));
    for (let index = 0; index < 70 && parse(headerOf('probe')) === probe; index++) parse(headerOf(`fill-${index}`));
    probe = parse(headerOf('probe'));
    // Now it holds the header that cleared it and the probe: 62 more fill it to 64.
    for (let index = 0; index < 62; index++) parse(headerOf(`more-${index}`));
    assert.equal(parse(headerOf('probe')), probe, 'still remembered with 64 entries');
    parse(headerOf('one-too-many'));
    assert.notEqual(parse(headerOf('probe')), probe, 'the 65th header cleared the memo');
  });
});

describe('deepFreeze', () => {
  it('freezes an object and everything in it, and returns it', () => {
    const value = { a: { b: [1, { c: 2 }] }, d: 'x' };
    assert.equal(deepFreeze(value), value);
    assert.ok(Object.isFrozen(value));
    assert.ok(Object.isFrozen(value.a));
    assert.ok(Object.isFrozen(value.a.b));
    assert.ok(Object.isFrozen(value.a.b[1]));
  });

  it('leaves primitives and null as they are', () => {
    assert.equal(deepFreeze(null), null);
    assert.equal(deepFreeze(7), 7);
    assert.equal(deepFreeze('x'), 'x');
  });

  it('takes an object already frozen as frozen all through (the cache freezes whole payloads)', () => {
    const inner = { c: 1 };
    const outer = Object.freeze({ inner });
    deepFreeze(outer);
    assert.equal(Object.isFrozen(inner), false);
  });
});

describe('sameString', () => {
  it('is true only for the same string', () => {
    assert.equal(sameString('state-abc', 'state-abc'), true);
    assert.equal(sameString('', ''), true);
    assert.equal(sameString('\u00e9', '\u00e9'), true);
    assert.equal(sameString('state-abd', 'state-abc'), false);
    assert.equal(sameString('state-ab', 'state-abc'), false);
    assert.equal(sameString('state-abcd', 'state-abc'), false);
    assert.equal(sameString('\u00e9', 'e'), false);
  });

  it('is false for anything but a string', () => {
    assert.equal(sameString(undefined, 'x'), false);
    assert.equal(sameString(null, 'null'), false);
    assert.equal(sameString(1, '1'), false);
    assert.equal(sameString(['x'], 'x'), false);
  });
});
