import type { ExecutionContext } from '@nestjs/common';

/**
 * The platform request and response behind an execution context: HTTP (Express, Fastify)
 * or GraphQL (the context object holds them as `req`/`res`, or `request`/`reply` with
 * Mercurius; for a subscription over graphql-ws, the upgrade request and `connectionParams`).
 * Nothing for WebSocket, microservice or unknown contexts.
 *
 * @internal
 */
export function requestOf(context: ExecutionContext): unknown {
  return platformObjects(context)?.request;
}

/** @internal */
export interface PlatformObjects {
  request: unknown;
  response: unknown;
  /** A GraphQL subscription over a WebSocket: what the client sent with the handshake (`connectionParams`). */
  handshake?: unknown;
}

/** @internal */
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
    if (handshake !== undefined || isUpgrade(request)) return { request, response: undefined, handshake: handshake ?? {} };
    return { request, response: graphql?.res ?? graphql?.reply };
  }
  return undefined;
}

function isUpgrade(request: unknown): boolean {
  const upgrade = (request as { headers?: Record<string, unknown> }).headers?.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}
