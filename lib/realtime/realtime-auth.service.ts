import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { CognitoError } from '../errors/cognito.error.js';
import { CrossSiteRequestError } from '../errors/cross-site-request.error.js';
import { JwksNoMatchingKeyError, JwksUnavailableError } from '../errors/jwks.error.js';
import { JwtVerificationError } from '../errors/jwt-verification.error.js';
import { TokenEndpointError } from '../errors/token-endpoint.error.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
import { RedisLink } from '../fleet/redis-link.js';
import { RevocationList } from '../fleet/revocation-list.js';
import { readRouteRules, isCognitoGuard, unmetRequirement, type RouteRules } from '../guards/route-rules.js';
import { crossSiteUpgradeRefusal } from '../http/cross-site.util.js';
import { CognitoSessionService } from '../session/cognito-session.service.js';
import type { CognitoTokenUse } from '../tokens/cognito-claims.interface.js';
import { JwksVerifierService } from '../tokens/jwks-verifier.service.js';
import { CognitoRealtimeRefusal, cognitoSocketAuth, setSocketAuth, type CognitoSocketAuth } from './socket-auth.js';

/** What a connection brings: the upgrade request, and what the client sent with the handshake. @internal */
export interface Handshake {
  /** The HTTP upgrade request (headers: Authorization, Cookie, Origin). */
  request: unknown;
  /** socket.io's `auth`, or graphql-ws's `connectionParams`. */
  params?: unknown;
}

/** A gateway class and what its decorators ask of every connection. @internal */
export interface GatewayRules extends RouteRules {
  name: string;
  port: number;
  options: Record<string, unknown>;
  /** `@UseGuards(CognitoAuthGuard)` on the class, and no `@Public()` there. */
  requiresAuth: boolean;
}

/** What `cognito:refresh` answers. @publicApi */
export type CognitoRefreshReply = { accepted: true; expiresAt: number } | { accepted: false; code: string; message: string };

/** The event a client sends with a fresh token (`{ token }`) before its connection's expires. @publicApi */
export const COGNITO_REFRESH_EVENT = 'cognito:refresh';

/** Longest delay a Node timer takes (about 24.8 days); a later expiry re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Authentication for WebSocket connections and GraphQL subscriptions: the token of a connection
 * is verified once, at the handshake, and kept on the socket; guarded message handlers read it
 * from there. Used by `CognitoIoAdapter`, `CognitoWsAdapter` and `CognitoAuthGuard`.
 *
 * @internal
 */
@Injectable()
export class RealtimeAuthService {
  private readonly logger = new Logger('CognitoModule');
  private gateways: GatewayRules[] | undefined;
  /** One expiry timer per authenticated connection. */
  private readonly timers = new WeakMap<object, NodeJS.Timeout>();
  /** The open authenticated connections, and how to close each (until `forget`). */
  private readonly open = new Map<object, (refusal: CognitoRealtimeRefusal) => void>();
  /** What a connection authenticated with before its token expired: a later refresh must be the same user's. */
  private readonly expired = new WeakMap<object, CognitoSocketAuth>();

  constructor(
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly verifier: JwksVerifierService,
    private readonly session: CognitoSessionService,
    private readonly reflector: Reflector,
    private readonly modules: ModulesContainer,
    private readonly revocations: RevocationList,
    link: RedisLink,
  ) {
    // A revocation (here or, with Redis, on any instance) closes the connections it covers.
    link.onMessage$((message) => message.type === 'revoked' && this.closeRevoked());
    revocations.onRevoked(() => this.closeRevoked());
  }

  /**
   * The connection's credentials, verified, from the first source (`wsTokenSources`) that has
   * one; `undefined` when none has. Throws a `CognitoError` when the credential is invalid or
   * cannot be checked. The session cookie counts only from the app's own origin (or a trusted
   * one), and is read as it is: refreshing it here would have no response to carry the new
   * cookies, and a rotated refresh token would be lost.
   */
  async authenticate({ request, params }: Handshake, tokenUse: CognitoTokenUse): Promise<CognitoSocketAuth | undefined> {
    for (const source of this.config.wsTokenSources) {
      if (source === 'handshake' || source === 'header') {
        const token = source === 'handshake' ? handshakeToken(params) : headerToken(request);
        if (token === undefined) continue;
        return { claims: await this.verifier.verify(token, { tokenUse }), tokenUse, source };
      }
      if (!this.session.hasSessionCookies(request)) continue;
      const refusal = crossSiteUpgradeRefusal(request, this.config);
      if (refusal !== undefined) throw new CrossSiteRequestError(refusal);
      const state = await this.session.inspect(request);
      if (state.status !== 'active') continue;
      const claims = tokenUse === 'access' ? state.accessToken : state.idToken;
      if (claims === undefined) throw new JwtVerificationError('ERR_JWT_CLAIM_INVALID', 'The session keeps no ID token (sessionIncludeIdToken is off)', 'token_use');
      return { claims, tokenUse, source };
    }
    return undefined;
  }

  /**
   * Lets a connection in, or refuses it: a gateway class with `@UseGuards(CognitoAuthGuard)`
   * needs a valid token, of its `@TokenUse`, with its class-level groups and scopes. On any other
   * gateway a connection without a valid token is anonymous, and its guarded handlers refuse it.
   */
  async admit(handshake: Handshake, rules: readonly GatewayRules[]): Promise<CognitoSocketAuth | undefined> {
    const required = rules.filter((gateway) => gateway.requiresAuth);
    const tokenUse = (required[0] ?? rules[0])?.tokenUse ?? 'access';
    let auth: CognitoSocketAuth | undefined;
    try {
      auth = await this.authenticate(handshake, tokenUse);
    } catch (error) {
      if (required.length === 0) return undefined;
      throw this.refusal(error);
    }
    if (required.length === 0) return auth;
    if (auth === undefined) throw new CognitoRealtimeRefusal('cognito_unauthorized', 'No token: send one in the handshake, the Authorization header, or the session cookie');
    for (const gateway of required) {
      // Gateways that share a namespace or path and want different token uses cannot both be met.
      if (gateway.tokenUse !== auth.tokenUse) throw new CognitoRealtimeRefusal('cognito_unauthorized', `${gateway.name} needs an ${gateway.tokenUse === 'id' ? 'ID' : 'access'} token`);
      this.check(gateway, auth);
    }
    return auth;
  }

  /**
   * `cognito:refresh`: a fresh token for the connection, of the same user, verified and checked
   * against the gateway's connect-time requirements, then swapped in (the expiry timer moves).
   */
  async refresh(
    client: object,
    payload: unknown,
    rules: readonly GatewayRules[],
    onExpiry: (refusal: CognitoRealtimeRefusal) => void,
    isOpen: () => boolean,
  ): Promise<CognitoRefreshReply> {
    // After expiry the claims are gone, but the connection stays the user's it was.
    const current = cognitoSocketAuth(client) ?? this.expired.get(client);
    const required = rules.filter((gateway) => gateway.requiresAuth);
    const tokenUse = current?.tokenUse ?? (required[0] ?? rules[0])?.tokenUse ?? 'access';
    try {
      const token = typeof payload === 'object' && payload !== null ? (payload as { token?: unknown }).token : undefined;
      if (typeof token !== 'string' || token.length === 0) throw new CognitoRealtimeRefusal('cognito_unauthorized', 'cognito:refresh needs { token }');
      const auth: CognitoSocketAuth = { claims: await this.verifier.verify(token, { tokenUse }), tokenUse, source: 'handshake' };
      if (current !== undefined && (current.claims.sub !== auth.claims.sub || current.claims.iss !== auth.claims.iss)) {
        throw new CognitoRealtimeRefusal('cognito_forbidden', 'The token belongs to another user than the connection');
      }
      for (const gateway of required) this.check(gateway, auth);
      // The client may have left, or the connection closed at expiry, while the token was checked.
      if (!isOpen()) throw new CognitoRealtimeRefusal('cognito_unauthorized', 'The connection is closed');
      setSocketAuth(client, auth);
      this.expired.delete(client);
      this.watchExpiry(client, onExpiry, isOpen);
      return { accepted: true, expiresAt: auth.claims.exp };
    } catch (error) {
      const refusal = this.refusal(error);
      return { accepted: false, code: refusal.code, message: refusal.message };
    }
  }

  /**
   * Whether a message may reach a handler, from the connection's authentication and the
   * handler's decorators (`@Public`, `@TokenUse`, `@RequireGroups`, `@RequireScopes`). Throws
   * the refusal; the guard turns it into a `WsException`.
   */
  authorizeMessage(client: unknown, rules: RouteRules): true {
    if (rules.isPublic) return true;
    // A `ws` client closed at expiry stays CLOSING until the client answers; Nest still dispatches its messages.
    const readyState = (client as { readyState?: unknown } | undefined)?.readyState;
    if (typeof readyState === 'number' && readyState !== 1) throw new CognitoRealtimeRefusal('cognito_unauthorized', 'The connection is closing');
    const auth = cognitoSocketAuth(client);
    if (auth === undefined) throw new CognitoRealtimeRefusal('cognito_unauthorized', 'The connection has no valid token');
    // The timer closes the connection at expiry; a message can still slip in before it fires.
    if (auth.claims.exp * 1000 <= Date.now()) throw new CognitoRealtimeRefusal('cognito_unauthorized', "The connection's token has expired");
    // Signed out since the connection opened (it is being closed, but a message can slip in first).
    this.revocations.check(auth.claims as unknown as Record<string, unknown>);
    if (auth.tokenUse !== rules.tokenUse) {
      throw new CognitoRealtimeRefusal('cognito_unauthorized', `This handler needs an ${rules.tokenUse === 'id' ? 'ID' : 'access'} token; the connection has an ${auth.tokenUse === 'id' ? 'ID' : 'access'} token`);
    }
    this.check(rules, auth);
    return true;
  }

  /**
   * Closes the connection (through `onExpiry`) when its token expires: one timer per connection,
   * replaced when a fresh token arrives, cleared by `forget` when the connection ends.
   */
  watchExpiry(client: object, onExpiry: (refusal: CognitoRealtimeRefusal) => void, isOpen: () => boolean): void {
    this.forget(client);
    const auth = cognitoSocketAuth(client);
    // A connection that is already gone would hold its timer, and itself, until the token's expiry.
    if (auth === undefined || !isOpen()) return;
    this.open.set(client, onExpiry);
    const arm = () => {
      const left = auth.claims.exp * 1000 - Date.now();
      if (left > MAX_TIMER_MS) {
        this.timers.set(client, setTimeout(arm, MAX_TIMER_MS).unref());
        return;
      }
      const timer = setTimeout(() => {
        this.timers.delete(client);
        this.expired.set(client, auth);
        setSocketAuth(client, undefined);
        onExpiry(new CognitoRealtimeRefusal('cognito_unauthorized', 'The access token expired; reconnect with a fresh one'));
      }, Math.max(0, left));
      this.timers.set(client, timer.unref());
    };
    arm();
  }

  forget(client: object): void {
    this.open.delete(client);
    const timer = this.timers.get(client);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(client);
  }

  /** The gateways (the classes under `@WebSocketGateway()`) whose options and port `matches` accepts. */
  gatewayRules(matches: (gateway: GatewayRules) => boolean): GatewayRules[] {
    this.gateways ??= this.discoverGateways();
    return this.gateways.filter(matches);
  }

  /** Closes the open connections whose token has just been revoked. */
  private closeRevoked(): void {
    for (const [client, close] of this.open) {
      const auth = cognitoSocketAuth(client);
      if (auth === undefined) continue;
      try {
        this.revocations.check(auth.claims as unknown as Record<string, unknown>);
      } catch (error) {
        if (!(error instanceof JwtVerificationError)) continue; // Redis away: the next message says so
        this.forget(client);
        setSocketAuth(client, undefined);
        close(new CognitoRealtimeRefusal('cognito_unauthorized', 'The token has been revoked (signed out)'));
      }
    }
  }

  /** Why a connection or message is refused, without the credential in it. */
  refusal(error: unknown): CognitoRealtimeRefusal {
    if (error instanceof CognitoRealtimeRefusal) return error;
    if (error instanceof CrossSiteRequestError) return new CognitoRealtimeRefusal('cognito_forbidden', error.message);
    if (error instanceof JwtVerificationError || error instanceof JwksNoMatchingKeyError) return new CognitoRealtimeRefusal('cognito_unauthorized', error.message);
    if (error instanceof JwksUnavailableError || error instanceof TokenEndpointError || error instanceof RedisUnavailableError) {
      return new CognitoRealtimeRefusal('cognito_unavailable', 'Cognito cannot be reached to check the token; try again shortly');
    }
    if (error instanceof CognitoError) return new CognitoRealtimeRefusal('cognito_unauthorized', 'The token could not be verified');
    // A bug, not the client's fault: logged by its name only (its message could hold anything).
    this.logger.error(`Authenticating a WebSocket connection failed unexpectedly (${error instanceof Error ? error.name : typeof error})`);
    return new CognitoRealtimeRefusal('cognito_unavailable', 'The connection could not be authenticated; try again shortly');
  }

  private check(rules: RouteRules, auth: CognitoSocketAuth): void {
    const unmet = unmetRequirement(rules, auth.claims as unknown as Record<string, unknown>);
    if (unmet === 'groups') throw new CognitoRealtimeRefusal('cognito_forbidden', 'Not a member of a required Cognito group');
    if (unmet === 'scopes') throw new CognitoRealtimeRefusal('cognito_forbidden', 'The token lacks a required scope');
  }

  /** Every provider class marked by `@WebSocketGateway()`, read once (after the app has been built). */
  private discoverGateways(): GatewayRules[] {
    const found = new Map<Function, GatewayRules>();
    for (const module of this.modules.values()) {
      for (const wrapper of module.providers.values()) {
        const type = wrapper.metatype;
        if (typeof type !== 'function' || found.has(type) || Reflect.getMetadata(GATEWAY_METADATA, type) !== true) continue;
        const rules = readRouteRules(this.reflector, [type]);
        const guards = (Reflect.getMetadata(GUARDS_METADATA, type) as unknown[] | undefined) ?? [];
        found.set(type, {
          ...rules,
          name: type.name,
          port: Number(Reflect.getMetadata(PORT_METADATA, type) ?? 0),
          options: (Reflect.getMetadata(GATEWAY_OPTIONS, type) as Record<string, unknown> | undefined) ?? {},
          requiresAuth: !rules.isPublic && guards.some(isCognitoGuard),
        });
      }
    }
    return [...found.values()];
  }
}

// @nestjs/websockets' metadata keys (the package is optional, so they are not imported).
const GATEWAY_METADATA = 'websockets:is_gateway';
const GATEWAY_OPTIONS = 'websockets:gateway_options';
const PORT_METADATA = 'port';
const GUARDS_METADATA = '__guards__';

/** socket.io's `auth: { token }` or `auth: { authorization: 'Bearer …' }`; graphql-ws's `connectionParams` alike. */
function handshakeToken(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const values = params as Record<string, unknown>;
  const authorization = values.authorization ?? values.Authorization;
  if (authorization !== undefined) return bearer(authorization, 'The handshake\'s "authorization" is not "Bearer <token>"');
  if (values.token === undefined) return undefined;
  if (typeof values.token !== 'string' || values.token.length === 0 || /\s/.test(values.token)) {
    throw new JwtVerificationError('ERR_JWT_MALFORMED', 'The handshake\'s "token" is not a token');
  }
  return values.token;
}

function headerToken(request: unknown): string | undefined {
  const header = (request as { headers?: Record<string, unknown> } | undefined)?.headers?.authorization;
  // Another scheme is no bearer token (RFC 6750 §3.1): the next source is tried.
  if (typeof header !== 'string' || !/^bearer(\s|$)/i.test(header)) return undefined;
  return bearer(header, 'The Authorization header is not "Bearer <token>"');
}

function bearer(value: unknown, problem: string): string {
  if (typeof value === 'string' && /^bearer /i.test(value)) {
    const token = value.slice(7).trim();
    if (token.length > 0 && !/\s/.test(token)) return token;
  }
  throw new JwtVerificationError('ERR_JWT_MALFORMED', problem);
}
