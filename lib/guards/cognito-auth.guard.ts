import {
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig } from '../config/cognito-config.js';
import { CognitoError } from '../errors/cognito.error.js';
import { CrossSiteRequestError } from '../errors/cross-site-request.error.js';
import { JwksNoMatchingKeyError, JwksUnavailableError } from '../errors/jwks.error.js';
import { JwtVerificationError } from '../errors/jwt-verification.error.js';
import { TokenEndpointError } from '../errors/token-endpoint.error.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';
import { crossSiteRefusal, isSafeMethod } from '../http/cross-site.util.js';
import { CognitoSessionService } from '../session/cognito-session.service.js';
import type { CognitoAccessTokenClaims, CognitoIdTokenClaims, CognitoTokenUse } from '../tokens/cognito-claims.interface.js';
import { JwksVerifierService } from '../tokens/jwks-verifier.service.js';
import { RealtimeAuthService } from '../realtime/realtime-auth.service.js';
import { realtimePeers } from '../realtime/realtime-peers.js';
import { platformObjects, type PlatformObjects } from './execution-context.util.js';
import { COGNITO_GUARD_MARK, readRouteRules, unmetRequirement, type RouteRules } from './route-rules.js';

/** What the guard attaches to the request as `request.cognito`. @publicApi */
export interface CognitoRequestAuth {
  claims: CognitoAccessTokenClaims | CognitoIdTokenClaims;
  tokenUse: CognitoTokenUse;
  /** Where the token came from (`handshake`: a GraphQL subscription's `connectionParams`). */
  source: 'header' | 'cookie' | 'handshake';
}

/**
 * Protects routes with Cognito tokens, deny by default: use it per route, per controller,
 * or globally (`{ provide: APP_GUARD, useClass: CognitoAuthGuard }`). Tokens come from the
 * `Authorization: Bearer` header, then the session cookies (`tokenSources`). No token: 401 with
 * `WWW-Authenticate: Bearer` (RFC 6750 §3.1: no error code); an invalid token: 401 with
 * `error="invalid_token"`; missing group: 403; missing scope: 403 with `error="insufficient_scope"`;
 * a cross-site unsafe request on the session cookie: 403 (`csrfProtection`); keys or Cognito
 * unreachable: 503. On WebSocket gateways (with `CognitoIoAdapter` or `CognitoWsAdapter`) it checks
 * the token the connection was opened with, and refuses with a `WsException`
 * (`{ status: 'error', code, message }`); on GraphQL subscriptions it reads `connectionParams`.
 * Microservice and unknown contexts are denied.
 *
 * @publicApi
 */
@Injectable()
export class CognitoAuthGuard implements CanActivate {
  /** Lets code find this guard in `@UseGuards()` metadata without importing it. */
  static readonly [COGNITO_GUARD_MARK] = true;
  private readonly rules = new WeakMap<object, WeakMap<object, RouteRules>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: JwksVerifierService,
    private readonly session: CognitoSessionService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(COGNITO_CONFIG) private readonly config: CognitoConfig,
    private readonly realtime: RealtimeAuthService,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rules = this.rulesFor(context);
    const objects = platformObjects(context);
    if (objects === undefined) return context.getType() === 'ws' ? this.authorizeMessage(context.getArgs(), rules) : rules.isPublic;
    if (objects.handshake !== undefined) return this.authorizeSubscription(objects, rules);

    // The common cases, a bearer token verified before or a session seen before, are answered
    // without a promise.
    let known: CognitoRequestAuth | undefined;
    try {
      known = this.knownBearer(objects.request, rules.tokenUse) ?? this.knownSession(objects.request, rules.tokenUse);
    } catch (error) {
      return this.refuse(error, rules, objects.response);
    }
    if (known !== undefined) return this.decide(known, rules, objects);
    return this.authenticate(objects.request, objects.response, rules.tokenUse).then(
      (auth) => this.decide(auth, rules, objects),
      (error: unknown) => this.refuse(error, rules, objects.response),
    );
  }

  /**
   * A gateway message: the connection's token, verified when it opened, against the handler's
   * decorators. The arguments are the client, the message, and with socket.io the client's ack.
   */
  private authorizeMessage([client, , ack]: unknown[], rules: RouteRules): boolean {
    try {
      return this.realtime.authorizeMessage(client, rules);
    } catch (error) {
      const refusal = this.realtime.refusal(error);
      const answer = { status: 'error', code: refusal.code, message: refusal.message };
      // A socket.io client waiting on an ack (emitWithAck) would wait forever: it gets the refusal too.
      if (typeof ack === 'function') ack(answer);
      const { WsException } = realtimePeers;
      // Nest's WebSocket filter sends a WsException's object to the client as it is, as the `exception` event.
      throw WsException === undefined ? refusal : new WsException(answer);
    }
  }

  /**
   * A GraphQL subscription over graphql-ws: the token comes from `connectionParams`, the upgrade
   * request's header or its session cookie (with the Origin rule), as for any WebSocket connection.
   */
  private authorizeSubscription(objects: PlatformObjects, rules: RouteRules): Promise<boolean> {
    return this.realtime.authenticate({ request: objects.request, params: objects.handshake }, rules.tokenUse).then(
      (auth) => this.decide(auth, rules, objects),
      (error: unknown) => this.refuse(error, rules, undefined),
    );
  }

  /** An invalid token on a public route means no claims, not a 401 (documented). */
  private refuse(error: unknown, rules: RouteRules, response: unknown): boolean {
    if (rules.isPublic) return true;
    throw this.toHttpException(error, response);
  }

  private decide(auth: CognitoRequestAuth | undefined, { isPublic, groups, scopes }: RouteRules, objects: PlatformObjects): boolean {
    if (auth !== undefined) ((objects.holder ?? objects.request) as { cognito?: CognitoRequestAuth }).cognito = auth;
    if (isPublic) return true;
    if (auth === undefined) {
      // RFC 6750 §3.1: a request without credentials gets the challenge, but no error code.
      this.setHeader(objects.response, 'WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException('No bearer token or session');
    }

    const unmet = unmetRequirement({ isPublic, tokenUse: auth.tokenUse, groups, scopes }, auth.claims as unknown as Record<string, unknown>);
    if (unmet === 'groups') throw new ForbiddenException('Not a member of a required Cognito group');
    if (unmet === 'scopes') {
      this.challenge(objects.response, 'insufficient_scope', 'The token lacks a required scope', scopes!.values.join(' '));
      throw new ForbiddenException('The token lacks a required scope');
    }
    return true;
  }

  private rulesFor(context: ExecutionContext): RouteRules {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byController = this.rules.get(handler);
    let rules = byController?.get(controller);
    if (rules === undefined) {
      rules = readRouteRules(this.reflector, [handler, controller]);
      if (byController === undefined) this.rules.set(handler, (byController = new WeakMap()));
      byController.set(controller, rules);
    }
    return rules;
  }

  /** Claims of a bearer token the verifier has already verified (and still trusts); else undefined. */
  private knownBearer(request: unknown, tokenUse: CognitoTokenUse): CognitoRequestAuth | undefined {
    if (this.config.tokenSources[0] !== 'header') return undefined;
    const header = (request as { headers?: Record<string, unknown> }).headers?.authorization;
    // Only the scheme is checked here: a string equal to a verified token is a well-formed one.
    // Anything else misses, and the full path below reads the header strictly.
    if (typeof header !== 'string' || !(header.startsWith('Bearer ') || BEARER_PREFIX.test(header))) return undefined;
    const claims = this.verifier.verifyKnown(header.slice(7), tokenUse);
    return claims === undefined ? undefined : { claims, tokenUse, source: 'header' };
  }

  /**
   * The session's claims when the session cookie is where `authenticate` would look (no bearer
   * header ahead of it), the request is a safe one (an unsafe one goes through the cross-site
   * check), and the session and its access token are both known already; else undefined.
   */
  private knownSession(request: unknown, tokenUse: CognitoTokenUse): CognitoRequestAuth | undefined {
    if (tokenUse !== 'access') return undefined;
    const [first, second] = this.config.tokenSources;
    if (first !== 'cookie') {
      const header = (request as { headers?: Record<string, unknown> }).headers?.authorization;
      if (second !== 'cookie' || (typeof header === 'string' && BEARER_SCHEME.test(header))) return undefined;
    }
    if (this.config.csrfProtection && !isSafeMethod((request as { method?: unknown }).method)) return undefined;
    const claims = this.session.knownAccessClaims(request);
    return claims === undefined ? undefined : { claims, tokenUse, source: 'cookie' };
  }

  private async authenticate(request: unknown, response: unknown, tokenUse: CognitoTokenUse): Promise<CognitoRequestAuth | undefined> {
    for (const source of this.config.tokenSources) {
      if (source === 'header') {
        const header = (request as { headers?: Record<string, unknown> }).headers?.authorization;
        // Another scheme (HTTP Basic in front of a staging site, say) is no bearer token:
        // RFC 6750 §3.1 treats it as no credentials, and the next source is tried.
        if (typeof header !== 'string' || !BEARER_SCHEME.test(header)) continue;
        const token = bearerToken(header);
        if (token === undefined) throw new JwtVerificationError('ERR_JWT_MALFORMED', 'The Authorization header is not "Bearer <token>"');
        return { claims: await this.verifier.verify(token, { tokenUse }), tokenUse, source };
      }
      this.refuseCrossSite(request);
      const state = await this.session.resume(request, response);
      if (state.status !== 'active') continue;
      const claims = tokenUse === 'access' ? state.accessToken : state.idToken;
      if (claims === undefined) throw new JwtVerificationError('ERR_JWT_CLAIM_INVALID', 'The session keeps no ID token (sessionIncludeIdToken is off)', 'token_use');
      return { claims, tokenUse, source };
    }
    return undefined;
  }

  /**
   * The session cookie is an ambient credential: the browser sends it with requests that other
   * sites' pages start. An unsafe request must come from the app's own pages before the cookie
   * counts (checked before the session is opened, so a cross-site request cannot even make it
   * refresh). On a public route the refusal means "no claims", as for any invalid credential.
   */
  private refuseCrossSite(request: unknown): void {
    if (!this.config.csrfProtection || isSafeMethod((request as { method?: unknown }).method)) return;
    const refusal = crossSiteRefusal(request, this.config);
    if (refusal !== undefined && this.session.hasSessionCookies(request)) throw new CrossSiteRequestError(refusal);
  }

  private toHttpException(error: unknown, response: unknown): HttpException {
    if (error instanceof CrossSiteRequestError) return new ForbiddenException(error.message);
    if (error instanceof JwtVerificationError || error instanceof JwksNoMatchingKeyError) {
      return this.unauthorized(response, error.message);
    }
    if (error instanceof RedisUnavailableError) {
      this.setHeader(response, 'Retry-After', '5');
      return new ServiceUnavailableException('The shared session state cannot be reached to check the token; try again shortly');
    }
    if (error instanceof JwksUnavailableError || error instanceof TokenEndpointError) {
      this.setHeader(response, 'Retry-After', '5');
      return new ServiceUnavailableException('Cognito cannot be reached to check the token; try again shortly');
    }
    if (error instanceof CognitoError) return this.unauthorized(response, 'The token could not be verified');
    throw error;
  }

  private unauthorized(response: unknown, message: string): UnauthorizedException {
    // One text for the header and the body; quotes would break the header's quoted-string.
    const description = message.replace(/["\\]/g, "'");
    this.challenge(response, 'invalid_token', description);
    return new UnauthorizedException(description);
  }

  /** RFC 6750 §3: the challenge tells clients why; it never contains the token. */
  private challenge(response: unknown, error: string, description: string, scope?: string): void {
    const quoted = (value: string) => `"${value.replace(/["\\]/g, "'")}"`;
    const parts = [`error=${quoted(error)}`, `error_description=${quoted(description)}`];
    if (scope !== undefined) parts.push(`scope=${quoted(scope)}`);
    this.setHeader(response, 'WWW-Authenticate', `Bearer ${parts.join(', ')}`);
  }

  private setHeader(response: unknown, name: string, value: string): void {
    if (response === undefined || response === null) return;
    try {
      this.adapterHost.httpAdapter?.setHeader(response, name, value);
    } catch {
      // A GraphQL transport without a writable response: the error body still says why.
    }
  }
}

const BEARER_PREFIX = /^bearer /i;
/** The scheme alone, with or without a token after it. */
const BEARER_SCHEME = /^bearer(\s|$)/i;

/** `Bearer <token>` (scheme case-insensitive); the verifier checks the token itself. */
function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string' || !BEARER_PREFIX.test(header)) return undefined;
  const token = header.slice(7).trim();
  return token.length > 0 && !token.includes(' ') ? token : undefined;
}

