import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import type { AxiosError } from 'axios';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';

/** Larger than any legitimate token response or key set. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** @internal */
export interface UpstreamResponse {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Why a call to Cognito produced no response. Deliberately carries nothing from the
 * request: axios errors hold the request's headers and body (client secret, code).
 *
 * @internal
 */
export class UpstreamFailure extends Error {
  constructor(readonly kind: 'timeout' | 'unreachable' | 'too_large') {
    super(kind === 'timeout' ? 'no answer within the timeout' : kind === 'too_large' ? 'the response is too large' : 'the server could not be reached');
  }
}

/**
 * The one place that talks HTTP to Cognito, through `@nestjs/axios`'s `HttpService`:
 * a total timeout, no redirects, a size cap, and the raw body (callers parse it).
 *
 * @internal
 */
@Injectable()
export class CognitoHttpClient {
  constructor(
    private readonly http: HttpService,
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
  ) {}

  async request(method: 'GET' | 'POST', url: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<UpstreamResponse> {
    try {
      return await this.once(method, url, init);
    } catch (error) {
      // A pooled keep-alive connection that the server closed at the same moment fails at once.
      // A GET is safe to send again; a POST is not (an authorization code works only once).
      if (method === 'GET' && error instanceof UpstreamFailure && error.kind === 'unreachable') return this.once(method, url, init);
      throw error;
    }
  }

  private async once(method: 'GET' | 'POST', url: string, init: { headers?: Record<string, string>; body?: string }): Promise<UpstreamResponse> {
    try {
      const response = await this.http.axiosRef.request<string>({
        method,
        url,
        headers: init.headers,
        data: init.body,
        // axios' own timeout only limits idleness; the signal bounds the whole exchange.
        timeout: this.config.httpTimeoutMs,
        signal: AbortSignal.timeout(this.config.httpTimeoutMs),
        maxRedirects: 0,
        maxContentLength: MAX_RESPONSE_BYTES,
        responseType: 'text',
        transformResponse: (data: unknown) => data,
        validateStatus: () => true,
      });
      return {
        status: response.status,
        contentType: String(response.headers['content-type'] ?? ''),
        body: typeof response.data === 'string' ? response.data : String(response.data ?? ''),
      };
    } catch (error) {
      throw new UpstreamFailure(classify(error as AxiosError));
    }
  }
}

function classify(error: AxiosError): UpstreamFailure['kind'] {
  if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || error.code === 'ERR_CANCELED') return 'timeout';
  if (typeof error.message === 'string' && error.message.includes('maxContentLength')) return 'too_large';
  return 'unreachable';
}
