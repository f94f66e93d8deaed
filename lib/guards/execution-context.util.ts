import type { ExecutionContext } from '@nestjs/common';

/**
 * Where the guard keeps a request's authentication (`cognito`): the request, or for a GraphQL
 * subscription the operation's own context object, since every operation of a connection
 * shares its upgrade request.
 *
 * @internal
 */
export function authHolderOf(context: ExecutionContext): unknown {
  const objects = platformObjects(context);
  return objects?.holder ?? objects?.request;
}

/** @internal */
export interface PlatformObjects {
  request: unknown;
  response: unknown;
  /** A GraphQL subscription over a WebSocket: what the client sent with the handshake (`connectionParams`). */
  handshake?: unknown;
  /** Where the authentication is kept, when not on the request (see authHolderOf). */
  holder?: object;
}

/**
 * The platform request and response behind an execution context: HTTP (Express, Fastify)
 * or GraphQL (the context object holds them as `req`/`res`, or `request`/`reply` with
 * Mercurius; for a subscription over graphql-ws, the upgrade request and `connectionParams`).
 * Nothing for WebSocket, microservice or unknown contexts.
 *
 * @internal
 */
export function platformObjects(context: ExecutionContext): PlatformObjects | undefined {
  const type = context.getType<string>();
  if (type === 'http') {
    // What switchToHttp().getRequest()/getResponse() return, without the three closures that
    // switchToHttp() attaches to the context on every call.
    return { request: context.getArgByIndex(0), response: context.getArgByIndex(1) };
  }
  if (type === 'graphql') {
    // No dependency on @nestjs/graphql: a resolver's third argument is the GraphQL context.
    const graphql = context.getArgByIndex(2) as Record<string, any> | undefined;
    const request = graphql?.req ?? graphql?.request ?? graphql?.reply?.request;
    if (request === undefined) return undefined;
    // graphql-ws: the context function passes `connectionParams` on, and `req` is the upgrade request.
    const handshake = graphql?.connectionParams ?? graphql?.extra?.connectionParams;
    if (handshake !== undefined || isUpgrade(request)) return { request, response: undefined, handshake: handshake ?? {}, holder: graphql };
    return { request, response: graphql?.res ?? graphql?.reply };
  }
  return undefined;
}

function isUpgrade(request: unknown): boolean {
  const upgrade = (request as { headers?: Record<string, unknown> }).headers?.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}
