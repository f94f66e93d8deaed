// Direct tests of the redirect helpers behind /auth/login and /auth/callback: they decide
// where a browser may be sent, so every branch is pinned here (quick, for mutation testing).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSitePath, resolveRedirectTarget, sanitizeReturnTo, withErrorReason } from '../../lib/login/return-to.util.js';

const APP = 'https://app.example.com';

describe('isSitePath', () => {
  const cases: [value: string, expected: boolean][] = [
    ['/', true],
    ['/a', true],
    ['/a/b?x=1#h', true],
    ['/a b', true], // a space (U+0020) is not a control character
    ['/a~b', true], // U+007E, just below the C1 range's start
    ['/a\u00A0b', true], // U+00A0, just past it
    ['', false],
    ['a', false],
    ['https://evil.example/', false],
    ['//evil.example', false],
    ['/\\evil.example', false],
    ['/a\tb', false], // a browser drops the tab and goes to /ab: refused all the same
    ['/a\nb', false],
    ['/a\u0000b', false],
    ['/a\u001Fb', false],
    ['/a\u007Fb', false],
    ['/a\u0080b', false],
    ['/a\u009Fb', false],
  ];
  for (const [value, expected] of cases) {
    it(`${expected ? 'accepts' : 'refuses'} ${JSON.stringify(value)}`, () => {
      assert.equal(isSitePath(value), expected);
    });
  }
});

describe('sanitizeReturnTo', () => {
  it('keeps a plain path with its query and fragment', () => {
    assert.equal(sanitizeReturnTo('/orders/7?tab=items#top'), '/orders/7?tab=items#top');
  });

  it('returns the normalised path (dot segments resolved, characters percent-encoded)', () => {
    assert.equal(sanitizeReturnTo('/a/./b/../c'), '/a/c');
    assert.equal(sanitizeReturnTo('/caf\u00e9 menu'), '/caf%C3%A9%20menu');
    assert.equal(sanitizeReturnTo('/x?q=a b'), '/x?q=a%20b');
  });

  it('refuses nothing, too long, or not a path on this site', () => {
    assert.equal(sanitizeReturnTo(undefined), undefined);
    assert.equal(sanitizeReturnTo(''), undefined);
    assert.equal(sanitizeReturnTo('orders'), undefined);
    assert.equal(sanitizeReturnTo('https://evil.example/'), undefined);
    assert.equal(sanitizeReturnTo('//evil.example/'), undefined);
    assert.equal(sanitizeReturnTo('/\\evil.example/'), undefined);
    assert.equal(sanitizeReturnTo('/a\tb'), undefined);
  });

  it('accepts up to 2,048 characters and refuses one more', () => {
    const longest = `/${'a'.repeat(2047)}`;
    assert.equal(sanitizeReturnTo(longest), longest);
    assert.equal(sanitizeReturnTo(`${longest}a`), undefined);
  });

  it('refuses any backslash, even inside a path (browsers read it as a slash)', () => {
    assert.equal(sanitizeReturnTo('/a\\b'), undefined);
    assert.equal(sanitizeReturnTo('/a/b\\'), undefined);
  });

  it('refuses a path that normalises to another host', () => {
    assert.equal(sanitizeReturnTo('/.//evil.example'), undefined);
    assert.equal(sanitizeReturnTo('/a/..//evil.example/x'), undefined);
    assert.equal(sanitizeReturnTo('/%2e%2e//evil.example'), undefined);
    assert.equal(sanitizeReturnTo('/.//'), undefined, 'normalises to "//", which is not even a URL');
  });
});

describe('resolveRedirectTarget', () => {
  it('sends a path on this site as a path, percent-encoded', () => {
    assert.equal(resolveRedirectTarget('/done?x=1#h', APP), '/done?x=1#h');
    assert.equal(resolveRedirectTarget('/caf\u00e9', APP), '/caf%C3%A9');
    assert.equal(resolveRedirectTarget('/a/../b', APP), '/b');
  });

  it('sends a path that normalises to //host as the full same-origin URL', () => {
    assert.equal(resolveRedirectTarget('/.//evil.example/x', APP), `${APP}//evil.example/x`);
  });

  it('reads a scheme-relative value as the browser would, and sends it in full', () => {
    assert.equal(resolveRedirectTarget('//other.example/x', APP), 'https://other.example/x');
    assert.equal(resolveRedirectTarget('/\\other.example/x', APP), 'https://other.example/x');
    assert.equal(resolveRedirectTarget('//other.example/x', 'http://127.0.0.1:3000'), 'http://other.example/x');
  });

  it('accepts absolute http and https URLs, whatever the scheme case', () => {
    assert.equal(resolveRedirectTarget('https://other.example/x?y=1', APP), 'https://other.example/x?y=1');
    assert.equal(resolveRedirectTarget('http://other.example/', APP), 'http://other.example/');
    assert.equal(resolveRedirectTarget('HTTPS://Other.example/', APP), 'https://other.example/');
    assert.equal(resolveRedirectTarget('Http://other.example/', APP), 'http://other.example/');
  });

  const refused: [label: string, value: unknown][] = [
    ['not a string', 42],
    ['undefined', undefined],
    ['an object', { toString: () => '/x' }],
    ['empty', ''],
    ['a relative path without a slash', 'done'],
    ['a control character in an absolute URL', 'https://other.example/\tx'],
    ['a control character in a path', '/a\nb'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a data: URL', 'data:text/html,hi'],
    ['an ftp URL', 'ftp://other.example/'],
    ['https with one slash', 'https:/other.example/'],
    ['https with one slash and https:// later on', 'https:/other.example/?next=https://x'],
    ['https without slashes', 'https:other.example'],
    ['a scheme with a prefix', 'xhttps://other.example/'],
    ['https with no host', 'https://'],
    ['a URL that does not parse', 'http://[nope/'],
    ['credentials', 'https://user:pass@other.example/'],
    ['a user name alone', 'https://user@other.example/'],
    ['a password alone', 'https://:pass@other.example/'],
  ];
  for (const [label, value] of refused) {
    it(`refuses ${label}`, () => {
      assert.equal(resolveRedirectTarget(value, APP), undefined);
    });
  }

  it('never answers with a scheme other than http(s), even against another base', () => {
    assert.equal(resolveRedirectTarget('//other.example/x', 'ftp://app.example'), undefined);
    assert.equal(resolveRedirectTarget('//other.example/x', 'ws://app.example'), undefined);
  });
});

describe('withErrorReason', () => {
  it('adds ?error= to a bare path', () => {
    assert.equal(withErrorReason('/login-error', 'state_mismatch'), '/login-error?error=state_mismatch');
  });

  it('adds &error= after an existing query', () => {
    assert.equal(withErrorReason('/login-error?lang=en', 'state_mismatch'), '/login-error?lang=en&error=state_mismatch');
  });

  it('keeps the fragment after the query', () => {
    assert.equal(withErrorReason('/login-error#top', 'denied'), '/login-error?error=denied#top');
    assert.equal(withErrorReason('/e?a=1#top', 'denied'), '/e?a=1&error=denied#top');
    assert.equal(withErrorReason('/e#', 'denied'), '/e?error=denied#');
    assert.equal(withErrorReason('/login-error#a#b', 'denied'), '/login-error?error=denied#a#b');
  });

  it('a question mark inside the fragment does not count as a query', () => {
    assert.equal(withErrorReason('/e#a?b', 'denied'), '/e?error=denied#a?b');
  });

  it('percent-encodes the reason', () => {
    assert.equal(withErrorReason('/e', 'a b&c=d'), '/e?error=a%20b%26c%3Dd');
  });
});
