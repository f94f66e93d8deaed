import { JwtVerificationError } from '../errors/jwt-verification.error.js';

/** Longer than any token Cognito issues (an ID token with many groups stays well below). */
const MAX_TOKEN_LENGTH = 64 * 1024;

/** A compact JWS split into its parts; nothing in it is trusted yet. @internal */
export interface ParsedJwt {
  /** Shared between tokens with the same header: read it, never change it. */
  header: Readonly<Record<string, unknown>>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWS, rejecting anything that is not one. @internal */
export function parseJwt(token: unknown): ParsedJwt {
  if (typeof token !== 'string' || token.length === 0) throw malformed('the token is not a non-empty string');
  if (token.length > MAX_TOKEN_LENGTH) throw malformed('the token is too long');
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot === -1 || secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) throw malformed('a JWT has three dot-separated parts');
  if (firstDot === 0 || secondDot === firstDot + 1 || secondDot === token.length - 1) throw malformed('a JWT part is empty');
  // Header and payload are covered by the signature, so a stray character there fails the
  // signature check anyway. The signature is not: a lenient base64 decoder skips characters
  // outside the alphabet, reads "+/" like "-_", and ignores the unused bits of the last
  // character. Encoding the decoded bytes again must give the very same text, so each
  // signature has exactly one accepted spelling.
  const signaturePart = token.slice(secondDot + 1);
  const signature = Buffer.from(signaturePart, 'base64url');
  if (signature.toString('base64url') !== signaturePart) throw malformed('the signature is not canonical base64url');
  return {
    header: decodeHeader(token.slice(0, firstDot)),
    payload: decodeJson(token.slice(firstDot + 1, secondDot), 'payload'),
    signingInput: token.slice(0, secondDot),
    signature,
  };
}

/**
 * A token's claims without any check, or `undefined` when it does not decode: only for choices
 * that a verification follows or that trust nothing (when to refresh a session, which user a
 * server-side entry belongs to). @internal
 */
export function unverifiedPayload(token: string): Record<string, unknown> | undefined {
  try {
    return parseJwt(token).payload;
  } catch {
    return undefined;
  }
}

/**
 * A pool signs every token with one of a few headers (`{"kid":…,"alg":"RS256"}`), so decoded
 * headers are remembered, frozen; the map is small and reset when full, so forged headers
 * cannot grow it.
 */
const headers = new Map<string, Readonly<Record<string, unknown>>>();
const MAX_HEADERS = 64;

function decodeHeader(part: string): Readonly<Record<string, unknown>> {
  const known = headers.get(part);
  if (known !== undefined) return known;
  const header = Object.freeze(decodeJson(part, 'header'));
  if (part.length <= 512) {
    if (headers.size >= MAX_HEADERS) headers.clear();
    headers.set(part, header);
  }
  return header;
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw malformed(`the ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function malformed(detail: string): JwtVerificationError {
  return new JwtVerificationError('ERR_JWT_MALFORMED', `Malformed token: ${detail}`);
}

/**
 * Freezes an object and everything in it, so a verified payload can be shared between requests
 * without any of them being able to change what the others see. JSON has no cycles.
 *
 * @internal
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
