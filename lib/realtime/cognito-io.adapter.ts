import type { INestApplicationContext } from '@nestjs/common';
import type { IoAdapter } from '@nestjs/platform-socket.io';
import { COGNITO_REFRESH_EVENT, type GatewayRules, type RealtimeAuthService } from './realtime-auth.service.js';
import { adoptBaseWhenLoaded, pendingBase } from './realtime-peers.js';
import { realtimeAuthOf } from './realtime-app.util.js';
import { setSocketAuth } from './socket-auth.js';

/** The socket.io server or namespace `IoAdapter.create()` returns, as far as this adapter uses it. */
interface IoServer {
  use(middleware: (socket: IoSocket, next: (error?: Error) => void) => void): unknown;
  on(event: 'connection', listener: (socket: IoSocket) => void): unknown;
}

interface IoSocket {
  request: unknown;
  handshake: { auth?: unknown };
  data: Record<string, unknown>;
  connected: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  disconnect(close?: boolean): unknown;
}

const IoAdapterBase = pendingBase('@nestjs/platform-socket.io', 'IoAdapter', 'CognitoIoAdapter') as unknown as typeof IoAdapter;

/**
 * Nest's `IoAdapter`, authenticating each socket.io connection at the handshake:
 * `app.useWebSocketAdapter(new CognitoIoAdapter(app))`. The token comes from `auth.token` (or
 * `auth.authorization: 'Bearer …'`), the upgrade request's `Authorization` header, or the
 * session cookie (`wsTokenSources`), is verified once, and is kept as `socket.data.cognito`.
 * A gateway class with `@UseGuards(CognitoAuthGuard)` refuses connections without a valid token
 * (`connect_error` with `data: { code, status }`) and checks its class-level `@RequireGroups`
 * and `@RequireScopes`; other gateways admit anonymous connections. At the token's expiry the
 * server emits `exception` with the reason and disconnects, unless the client sent
 * `cognito:refresh` with `{ token }` before. Extend it as you would `IoAdapter` (a Redis adapter, say).
 *
 * @publicApi
 */
export class CognitoIoAdapter extends IoAdapterBase {
  private readonly cognitoApp: unknown;
  private readonly protectedServers = new WeakSet<object>();

  constructor(app?: INestApplicationContext | object, ...rest: unknown[]) {
    super(app as never, ...(rest as []));
    this.cognitoApp = app;
  }

  override create(port: number, options?: Record<string, any>): any {
    const server = super.create(port, withMiddlewaresOnRecovery(options) as never) as unknown as IoServer;
    this.protect(server, port, options);
    return server;
  }

  /** Authenticates every connection to this server or namespace before it reaches a gateway. */
  private protect(server: IoServer, port: number, options: Record<string, any> | undefined): void {
    if (typeof server?.use !== 'function' || this.protectedServers.has(server)) return;
    this.protectedServers.add(server);
    const realtime = realtimeAuthOf(this.cognitoApp, 'CognitoIoAdapter');
    const namespace = options?.namespace;
    let rules: GatewayRules[] | undefined;
    const gatewayRules = () =>
      (rules ??= realtime.gatewayRules(
        (gateway) => gateway.port === port && sameNamespace(gateway.options.namespace, namespace) && samePath(gateway.options.path, options?.path),
      ));

    server.use((socket, next) => {
      realtime.admit({ request: socket.request, params: socket.handshake.auth }, gatewayRules()).then(
        (auth) => {
          setSocketAuth(socket, auth);
          next();
        },
        (error: unknown) => {
          const refusal = realtime.refusal(error);
          next(Object.assign(new Error(refusal.message), { data: refusal.data }));
        },
      );
    });
    // Only a connection that did open gets a timer (a later middleware may still refuse it, or the
    // client may leave while its token is checked, and neither ends with a disconnect event).
    server.on('connection', (socket) => this.watch(socket, realtime, gatewayRules));
  }

  /** The expiry timer, and `cognito:refresh`. */
  private watch(socket: IoSocket, realtime: RealtimeAuthService, rules: () => GatewayRules[]): void {
    const onExpiry = (refusal: { code: string; message: string }) => {
      // The reason first (socket.io's own disconnect reason cannot carry it), then the disconnect
      // of this namespace only: the client's other namespaces share the underlying connection.
      socket.emit('exception', { status: 'error', code: refusal.code, message: refusal.message });
      socket.disconnect();
    };
    const isOpen = () => socket.connected;
    realtime.watchExpiry(socket, onExpiry, isOpen);
    socket.once('disconnect', () => realtime.forget(socket));
    socket.on(COGNITO_REFRESH_EVENT, (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (reply: unknown) => void) : undefined;
      void realtime.refresh(socket, args[0], rules(), onExpiry, isOpen).then((reply) => (ack !== undefined ? ack(reply) : socket.emit(COGNITO_REFRESH_EVENT, reply)));
    });
  }
}

adoptBaseWhenLoaded(CognitoIoAdapter, '@nestjs/platform-socket.io', 'IoAdapter');

/**
 * socket.io's connection-state recovery skips the middlewares for a recovered socket by default,
 * and restores its `data` (claims included): every connection, recovered or not, goes through the
 * check here, with the token it brings now.
 */
function withMiddlewaresOnRecovery(options: Record<string, any> | undefined): Record<string, any> | undefined {
  const recovery = options?.connectionStateRecovery;
  if (recovery === undefined || recovery === null || recovery === false) return options;
  return { ...options, connectionStateRecovery: { ...(typeof recovery === 'object' ? recovery : {}), skipMiddlewares: false } };
}

/** Nest gives `create()` the namespace with a leading slash; the decorator may have none. */
function sameNamespace(declared: unknown, created: unknown): boolean {
  if (typeof declared === 'string' || typeof created === 'string' || declared === undefined || created === undefined) {
    return normalise(declared) === normalise(created);
  }
  return declared === created; // a RegExp or a function: the very object from the decorator
}

function samePath(declared: unknown, created: unknown): boolean {
  return (declared ?? '/socket.io') === (created ?? '/socket.io');
}

function normalise(namespace: unknown): unknown {
  if (namespace === undefined || namespace === '') return '/';
  return typeof namespace === 'string' && !namespace.startsWith('/') ? `/${namespace}` : namespace;
}
