import { estimateKeyBits } from './secret-strength.util.js';
import { COGNITO_ENV_NAMES, type CognitoModuleOptions } from './cognito-options.interface.js';

export const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/;
export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
export const CLIENT_ID = /^[\w+]{1,128}$/;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

type Option = keyof CognitoModuleOptions;

/**
 * Reads raw options one by one (from code or from environment strings), collecting every
 * problem instead of stopping at the first, each naming the option and its environment variable.
 *
 * @internal
 */
export class OptionReader {
  readonly problems: string[] = [];

  constructor(readonly options: Partial<Record<Option, unknown>>) {}

  fail(option: Option, expected: string, value?: unknown): void {
    const got = value === undefined ? '' : `, got ${describe(option, value)}`;
    const env = option in COGNITO_ENV_NAMES ? ` (${COGNITO_ENV_NAMES[option as keyof typeof COGNITO_ENV_NAMES]})` : '';
    this.problems.push(`${option}${env} ${expected}${got}`);
  }

  requiredString(option: Option, what: string): string | undefined {
    const value = this.options[option];
    if (value === undefined || value === null || value === '') {
      this.fail(option, `is required: ${what}`);
      return undefined;
    }
    if (typeof value !== 'string') {
      this.fail(option, `must be a string: ${what}`, value);
      return undefined;
    }
    return value.trim();
  }

  optionalString(option: Option): string | undefined {
    const value = this.options[option];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      this.fail(option, 'must be a string', value);
      return undefined;
    }
    return value.trim();
  }

  integer(option: Option, fallback: number, min: number, max: number): number {
    const value = this.options[option];
    if (value === undefined || value === null || value === '') return fallback;
    const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
      this.fail(option, `must be an integer from ${min} to ${max}`, value);
      return fallback;
    }
    return number;
  }

  boolean(option: Option, fallback: boolean): boolean {
    const value = this.options[option];
    if (value === undefined || value === null || value === '') return fallback;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|1|yes)$/i.test(value.trim())) return true;
    if (typeof value === 'string' && /^(false|0|no)$/i.test(value.trim())) return false;
    this.fail(option, 'must be true or false', value);
    return fallback;
  }

  url(option: Option, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.fail(option, 'must be an absolute URL', value);
      return undefined;
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
      if (url.username || url.password) {
        this.fail(option, 'must not contain credentials');
        return undefined;
      }
      return value;
    }
    this.fail(option, 'must use https (plain http is allowed only for localhost and 127.0.0.1)', value);
    return undefined;
  }

  origin(option: Option, value: string): string | undefined {
    const checked = this.url(option, value);
    if (checked === undefined) return undefined;
    const url = new URL(checked);
    if (url.pathname !== '/' || url.search || url.hash) {
      this.fail(option, 'must be a host or an origin without path, query or fragment', value);
      return undefined;
    }
    return url.origin;
  }

  /** A list of origins (`https://host[:port]`), each checked like a URL; duplicates folded. */
  origins(option: Option): string[] {
    const value = this.options[option];
    if (value === undefined || value === null || value === '') return [];
    const list = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
      this.fail(option, 'must be a list of origins such as "https://admin.example.com"', value);
      return [];
    }
    const origins = list.map((item: string) => this.origin(option, item.replace(/\/$/, '')));
    return origins.every((origin) => origin !== undefined) ? [...new Set(origins as string[])] : [];
  }

  route(option: Option, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const route = value.replace(/^\/+/, '').replace(/\/+$/, '');
    if (route === '' || !/^[\w\-./~]+$/.test(route) || route.split('/').some((segment) => segment === '..' || segment === '.')) {
      this.fail(option, 'must be a plain route path such as "auth/callback"', value);
      return undefined;
    }
    return route;
  }

  redirect(option: Option, value: string): string | undefined {
    if (value.startsWith('/') && !value.startsWith('//') && !value.includes('\\')) return value;
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      this.fail(option, 'must be a path starting with "/" or an https URL (route names such as "landing:index" are not supported)', value);
      return undefined;
    }
    return this.url(option, value);
  }

  cookieNamePrefix(): string | undefined {
    const value = this.optionalString('cookieNamePrefix') ?? 'cognito';
    if (/^[A-Za-z0-9_]{1,32}$/.test(value)) return value;
    this.fail('cookieNamePrefix', 'must be 1-32 letters, digits or "_"', value);
    return undefined;
  }

  cookieSecrets(): string[] | undefined {
    const value = this.options.cookieSecret;
    const list = typeof value === 'string' ? [value] : value;
    if (list === undefined || list === null || list === '' || (Array.isArray(list) && list.length === 0)) {
      this.fail('cookieSecret', `is required: ${GOOD_SECRET}`);
      return undefined;
    }
    if (!Array.isArray(list) || list.some((secret) => typeof secret !== 'string')) {
      this.fail('cookieSecret', 'must be a string or a list of strings');
      return undefined;
    }
    const problems = list.map((secret: string) => secretProblem(secret));
    const weak = problems.findIndex((problem) => problem !== undefined);
    if (weak !== -1) {
      // Never print the secret itself.
      this.fail('cookieSecret', `${list.length > 1 ? `entry ${weak + 1} ` : ''}${problems[weak]}: ${GOOD_SECRET}`);
      return undefined;
    }
    return list.map((secret: string) => secret);
  }

  stringList(option: Option, pattern: RegExp, what: string): string[] {
    const value = this.options[option];
    if (value === undefined || value === null || value === '') return [];
    const list = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || !pattern.test(item))) {
      this.fail(option, `must be a list of ${what}`, Array.isArray(value) ? value.join(',') : value);
      return [];
    }
    return list as string[];
  }

  /** An ordered list of token sources, each once, from `allowed`. */
  sources<T extends string>(option: 'tokenSources' | 'wsTokenSources', allowed: readonly T[]): T[] | undefined {
    const value = this.options[option];
    if (value === undefined || value === null || value === '') return [...allowed];
    const list = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
    if (!Array.isArray(list) || list.length === 0 || list.some((source) => !allowed.includes(source)) || new Set(list).size !== list.length) {
      const names = allowed.map((source) => `"${source}"`);
      this.fail(option, `must list ${names.slice(0, -1).join(', ')}${names.length > 2 ? ',' : ''} and/or ${names[names.length - 1]}, each once`, Array.isArray(value) ? value.join(',') : value);
      return undefined;
    }
    return list as T[];
  }

  scopes(): string[] | undefined {
    const value = this.options.scopes;
    if (value === undefined || value === null) return ['openid', 'email', 'profile'];
    const list = typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value;
    if (!Array.isArray(list) || list.some((scope) => typeof scope !== 'string' || !SCOPE.test(scope))) {
      this.fail('scopes', 'must be a list of scope names without spaces', value);
      return undefined;
    }
    if (!list.includes('openid')) {
      this.fail('scopes', 'must include "openid": without it Cognito returns no ID token', list.join(' '));
      return undefined;
    }
    return [...new Set(list as string[])];
  }
}

const GOOD_SECRET = 'use at least 32 random bytes, e.g. the output of `openssl rand -base64 32`';
/** About what 32 random bytes score in any common encoding, less a wide margin (they score 200 or more). */
const MIN_SECRET_BITS = 160;

function secretProblem(secret: string): string | undefined {
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < 32) return `is too short (${bytes} bytes)`;
  if (estimateKeyBits(secret) < MIN_SECRET_BITS) return 'is too easy to guess (repeated text, few distinct characters, common words or a phrase)';
  return undefined;
}

function describe(option: Option, value: unknown): string {
  // A Redis URL may hold a password.
  if (option === 'clientSecret' || option === 'cookieSecret' || option === 'redisUrl' || option === 'redis') return 'a value that is hidden here';
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'a list' : typeof value;
}
