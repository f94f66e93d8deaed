import { Inject, Injectable } from '@nestjs/common';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { TokenEndpointError } from '../errors/token-endpoint.error.js';
import { RevocationList } from '../fleet/revocation-list.js';
import { CognitoHttpClient, UpstreamFailure } from '../http/cognito-http.client.js';
import type { CognitoClientCredentialsToken, CognitoTokenSet } from './cognito-claims.interface.js';

/** @publicApi */
export interface ExchangeCodeParams {
  /** The authorization code from the callback's query. */
  code: string;
  /** Must equal the `redirect_uri` of the authorize request. @default the configured `redirectUri` */
  redirectUri?: string;
  /** The PKCE verifier whose S256 challenge went to /oauth2/authorize. */
  codeVerifier?: string;
}

const OAUTH_ERROR = /^[\w.-]{1,64}$/;
/** A cached client-credentials token is renewed this long before it expires. */
const CLIENT_CREDENTIALS_MARGIN_SECONDS = 60;

/**
 * Calls Cognito's /oauth2/token. Confidential clients authenticate with HTTP Basic,
 * public clients send `client_id` in the body. Every failure is a `TokenEndpointError`.
 *
 * @publicApi
 */
@Injectable()
export class TokenExchangeService {
  private readonly machineTokens = new Map<string, Promise<{ token: CognitoClientCredentialsToken; renewAt: number }>>();

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly http: CognitoHttpClient,
    private readonly revocations: RevocationList,
  ) {}

  /** Exchanges an authorization code for the ID, access and refresh tokens. */
  async exchangeCode({ code, redirectUri = this.config.redirectUri, codeVerifier }: ExchangeCodeParams): Promise<CognitoTokenSet> {
    if (typeof code !== 'string' || code.length === 0) {
      throw new TokenEndpointError('ERR_TOKEN_RESPONSE_INVALID', 'exchangeCode() needs a non-empty code');
    }
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
    if (codeVerifier !== undefined) form.set('code_verifier', codeVerifier);
    const body = await this.post(this.config.tokenUrl, form);
    return toTokenSet(body, { requireIdToken: true });
  }

  /**
   * Trades a refresh token for new ID and access tokens (grant `refresh_token`).
   * `refreshToken` in the result is set only when the app client rotates refresh tokens;
   * otherwise keep using the old one. A revoked or expired refresh token fails with
   * `oauthError: 'invalid_grant'`.
   */
  async refresh(refreshToken: string): Promise<CognitoTokenSet> {
    if (typeof refreshToken !== 'string' || refreshToken.length === 0) {
      throw new TokenEndpointError('ERR_TOKEN_RESPONSE_INVALID', 'refresh() needs a non-empty refresh token');
    }
    const body = await this.post(this.config.tokenUrl, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }));
    return toTokenSet(body, { requireIdToken: false });
  }

  /**
   * Revokes a refresh token at /oauth2/revoke, which also invalidates the access tokens issued
   * from it at Cognito (their JWTs still pass an offline check until they expire). The sessions
   * that hold it end on this instance at once, and on every instance that shares Redis.
   */
  async revoke(refreshToken: string): Promise<void> {
    if (typeof refreshToken === 'string' && refreshToken.length > 0) await this.revocations.revokeRefreshToken(refreshToken);
    await this.post(this.config.revokeUrl, new URLSearchParams({ token: refreshToken }), { expectJson: false });
  }

  /**
   * An access token for machine-to-machine calls (grant `client_credentials`; needs a client
   * secret). Cached in memory until shortly before it expires; concurrent callers share one request.
   */
  async clientCredentials(scopes: readonly string[] = []): Promise<CognitoClientCredentialsToken> {
    if (this.config.clientSecret === undefined) {
      throw new TokenEndpointError('ERR_TOKEN_RESPONSE_INVALID', 'clientCredentials() needs a client secret: Cognito refuses this grant to public clients');
    }
    const scope = [...new Set(scopes)].sort().join(' ');
    const entry = this.machineTokens.get(scope);
    if (entry !== undefined) {
      const settled = await entry.catch(() => undefined);
      if (settled !== undefined && Date.now() < settled.renewAt) return settled.token;
    }
    // Stale or failed: the first caller to get here starts one new request; the others join it.
    let pending = this.machineTokens.get(scope);
    if (pending === entry) {
      pending = this.fetchClientCredentials(scope);
      this.machineTokens.set(scope, pending);
    }
    return (await pending!).token;
  }

  private async fetchClientCredentials(scope: string): Promise<{ token: CognitoClientCredentialsToken; renewAt: number }> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) form.set('scope', scope);
    const body = await this.post(this.config.tokenUrl, form);
    const { accessToken, expiresIn } = toTokenSet(body, { requireIdToken: false });
    const margin = Math.min(CLIENT_CREDENTIALS_MARGIN_SECONDS, Math.ceil(expiresIn / 2));
    return {
      token: { accessToken, expiresIn, tokenType: 'Bearer', scope: typeof body.scope === 'string' ? body.scope : undefined },
      renewAt: Date.now() + (expiresIn - margin) * 1000,
    };
  }

  /** POSTs the form with client authentication; returns the parsed JSON object of a 200. */
  private async post(url: string, form: URLSearchParams, { expectJson = true } = {}): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.config.clientSecret === undefined) {
      form.set('client_id', this.config.clientId);
    } else {
      headers.authorization = basicAuthorization(this.config.clientId, this.config.clientSecret);
    }

    const endpoint = url === this.config.revokeUrl ? "Cognito's revocation endpoint" : "Cognito's token endpoint";
    let response;
    try {
      response = await this.http.request('POST', url, { headers, body: form.toString() });
    } catch (error) {
      const kind = error instanceof UpstreamFailure ? error.kind : 'unreachable';
      if (kind === 'timeout') {
        throw new TokenEndpointError('ERR_TOKEN_ENDPOINT_TIMEOUT', `${endpoint} did not answer within ${this.config.httpTimeoutMs} ms`);
      }
      if (kind === 'too_large') throw new TokenEndpointError('ERR_TOKEN_RESPONSE_INVALID', `${endpoint} sent an oversized response`);
      throw new TokenEndpointError('ERR_TOKEN_ENDPOINT_UNREACHABLE', `${endpoint} could not be reached`);
    }

    const json = parseObject(response.body);
    if (response.status !== 200) {
      const oauthError = typeof json?.error === 'string' && OAUTH_ERROR.test(json.error) ? json.error : undefined;
      throw new TokenEndpointError(
        'ERR_TOKEN_ENDPOINT_ERROR',
        `${endpoint} answered HTTP ${response.status}${oauthError ? ` with error "${oauthError}"` : ''}`,
        { status: response.status, oauthError },
      );
    }
    if (!expectJson) return {};
    if (json === undefined) {
      throw new TokenEndpointError('ERR_TOKEN_RESPONSE_INVALID', `${endpoint} answered 200 with a body that is not a JSON object`, {
        status: 200,
      });
    }
    return json;
  }
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function toTokenSet(body: Record<string, unknown>, { requireIdToken }: { requireIdToken: boolean }): CognitoTokenSet {
  const missing: string[] = [];
  const text = (name: string, required: boolean): string | undefined => {
    const value = body[name];
    if (typeof value === 'string' && value.length > 0) return value;
    if (required || value !== undefined) missing.push(name);
    return undefined;
  };
  const idToken = text('id_token', requireIdToken);
  const accessToken = text('access_token', true);
  const refreshToken = text('refresh_token', false);
  const expiresIn = typeof body.expires_in === 'string' ? Number(body.expires_in) : body.expires_in;
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn <= 0) missing.push('expires_in');
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') missing.push('token_type');
  if (missing.length > 0) {
    throw new TokenEndpointError(
      'ERR_TOKEN_RESPONSE_INVALID',
      `Cognito's token response lacks a valid ${missing.join(', ')}${missing.includes('id_token') ? ' (is "openid" among the scopes?)' : ''}`,
      { status: 200 },
    );
  }
  return { idToken: idToken ?? '', accessToken: accessToken!, refreshToken, expiresIn: expiresIn as number, tokenType: 'Bearer' };
}
