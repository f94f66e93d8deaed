import { JwtVerificationError } from '../errors/jwt-verification.error.js';

/** Longer than any token Cognito issues (an ID token with many groups stays well below). */
const MAX_TOKEN_LENGTH = 64 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A compact JWS split into its parts; nothing in it is trusted yet. @internal */
export interface ParsedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWS, rejecting anything that is not one. @internal */
export function parseJwt(token: unknown): ParsedJwt {
  if (typeof token !== 'string' || token.length === 0) throw malformed('the token is not a non-empty string');
  if (token.length > MAX_TOKEN_LENGTH) throw malformed('the token is too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('a JWT has three dot-separated parts');
  const [headerPart, payloadPart, signaturePart] = parts;
  // Header and payload are covered by the signature, so a stray character there fails the
  // signature check anyway; the signature itself is checked here, since a lenient base64
  // decoder would otherwise accept altered spellings of one valid signature.
  if (headerPart.length === 0 || payloadPart.length === 0 || !BASE64URL.test(signaturePart)) {
    throw malformed('a JWT part is empty or not base64url');
  }
  const signature = Buffer.from(signaturePart, 'base64url');
  // The last base64url character carries unused bits: only the canonical spelling is accepted.
  if (signature.toString('base64url') !== signaturePart) throw malformed('the signature is not canonical base64url');
  return {
    header: decodeHeader(headerPart),
    payload: decodeJson(payloadPart, 'payload'),
    signingInput: token.slice(0, headerPart.length + payloadPart.length + 1),
    signature,
  };
}

/**
 * A pool signs every token with one of a few headers (`{"kid":…,"alg":"RS256"}`), so decoded
 * headers are remembered; the map is small and reset when full, so forged headers cannot grow it.
 */
const headers = new Map<string, Record<string, unknown>>();
const MAX_HEADERS = 64;

function decodeHeader(part: string): Record<string, unknown> {
  const known = headers.get(part);
  if (known !== undefined) return { ...known };
  const header = decodeJson(part, 'header');
  if (part.length <= 512) {
    if (headers.size >= MAX_HEADERS) headers.clear();
    headers.set(part, header);
  }
  return { ...header };
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
