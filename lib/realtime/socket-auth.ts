import type { CognitoAccessTokenClaims, CognitoIdTokenClaims, CognitoTokenUse } from '../tokens/cognito-claims.interface.js';

/**
 * What a WebSocket connection authenticated with: socket.io keeps it as `client.data.cognito`,
 * a `ws` client as `client.cognito`. Verified once, when the connection opens (and again when
 * the client sends a fresh token); every guarded message handler reads it from there.
 *
 * @publicApi
 */
export interface CognitoSocketAuth {
  claims: CognitoAccessTokenClaims | CognitoIdTokenClaims;
  tokenUse: CognitoTokenUse;
  /** `handshake`: socket.io's `auth`, or graphql-ws's `connectionParams`; `header`: the upgrade request's `Authorization`; `cookie`: the session. */
  source: 'handshake' | 'header' | 'cookie';
}

/**
 * Why a connection or a message is refused, the same on every transport:
 * - `cognito_unauthorized`: no token, or one that is invalid or expired (HTTP's 401; ws close code 4401);
 * - `cognito_forbidden`: a group or scope is missing, or the session cookie came from another site (403; 4403);
 * - `cognito_unavailable`: the keys or Cognito cannot be reached, try again shortly (503; 4503).
 *
 * @publicApi
 */
export type CognitoRealtimeErrorCode = 'cognito_unauthorized' | 'cognito_forbidden' | 'cognito_unavailable';

/**
 * A refused connection or message: socket.io's `connect_error` carries `message` and `data`
 * (`{ code, status }`); a `ws` connection is closed with `closeCode` and the message as reason;
 * a refused message becomes a `WsException` whose error is `{ status: 'error', code, message }`.
 *
 * @publicApi
 */
export class CognitoRealtimeRefusal extends Error {
  /** The HTTP status this would be (401, 403 or 503). */
  readonly status: 401 | 403 | 503;
  /** The WebSocket close code: 4000 + status. */
  readonly closeCode: 4401 | 4403 | 4503;

  constructor(
    readonly code: CognitoRealtimeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CognitoRealtimeRefusal';
    this.status = code === 'cognito_forbidden' ? 403 : code === 'cognito_unavailable' ? 503 : 401;
    this.closeCode = (4000 + this.status) as 4401 | 4403 | 4503;
  }

  /** What socket.io puts in `connect_error`'s `data`. */
  get data(): { code: CognitoRealtimeErrorCode; status: number } {
    return { code: this.code, status: this.status };
  }
}

/**
 * The authentication kept on a socket.io socket (`data.cognito`) or a `ws` client (`cognito`),
 * or `undefined` when it connected anonymously.
 *
 * @publicApi
 */
export function cognitoSocketAuth(client: unknown): CognitoSocketAuth | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const holder = isSocketIo(client) ? (client as { data?: unknown }).data : client;
  return (holder as { cognito?: CognitoSocketAuth } | undefined)?.cognito;
}

/** @internal */
export function setSocketAuth(client: object, auth: CognitoSocketAuth | undefined): void {
  if (isSocketIo(client)) {
    const socket = client as { data?: Record<string, unknown> };
    if (typeof socket.data !== 'object' || socket.data === null) socket.data = {};
    if (auth === undefined) delete socket.data.cognito;
    else socket.data.cognito = auth;
    return;
  }
  if (auth === undefined) delete (client as { cognito?: unknown }).cognito;
  else (client as { cognito?: unknown }).cognito = auth;
}

/** A socket.io server-side socket: it has a handshake and a namespace. */
function isSocketIo(client: object): boolean {
  return 'handshake' in client && 'nsp' in client;
}
