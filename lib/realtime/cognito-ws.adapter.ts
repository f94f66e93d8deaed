import type { INestApplicationContext } from '@nestjs/common';
import type { WsAdapter } from '@nestjs/platform-ws';
import { COGNITO_REFRESH_EVENT, type GatewayRules, type RealtimeAuthService } from './realtime-auth.service.js';
import { adoptBaseWhenLoaded, pendingBase } from './realtime-peers.js';
import { realtimeAuthOf } from './realtime-app.util.js';
import { setSocketAuth, type CognitoRealtimeRefusal, type CognitoSocketAuth } from './socket-auth.js';

/** A `ws` client, as far as this adapter uses it. */
interface WsClient {
  readyState: number;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  close(code?: number, reason?: string): void;
  send(data: string): void;
}

interface WsServer {
  on(event: 'connection', listener: (client: WsClient, request: unknown) => void): unknown;
}

interface Handler {
  message: any;
  callback: (...args: any[]) => any;
}

const OPEN = 1;
/** RFC 6455 §7.4.1: the endpoint refuses a message that violates its policy. */
const POLICY_VIOLATION = 1008;
/** What a connection may send before it is authenticated (it usually sends nothing). */
const MAX_HELD_MESSAGES = 100;
const MAX_HELD_BYTES = 1024 * 1024;
/** RFC 6455 §5.5: a close frame's reason fits in 123 bytes. */
const MAX_REASON_BYTES = 123;

const WsAdapterBase = pendingBase('@nestjs/platform-ws', 'WsAdapter', 'CognitoWsAdapter') as unknown as typeof WsAdapter;

/**
 * Nest's `WsAdapter` (the `ws` package), authenticating each connection when it opens:
 * `app.useWebSocketAdapter(new CognitoWsAdapter(app))`. The token comes from the upgrade
 * request's `Authorization` header or the session cookie (`wsTokenSources`; browsers cannot set
 * headers on a WebSocket, so a browser uses the cookie), is verified once, and is kept as
 * `client.cognito`. A gateway class with `@UseGuards(CognitoAuthGuard)` closes connections without
 * a valid token with code 4401 (4403 for a missing group or scope, 4503 when Cognito cannot be
 * reached) and the reason; other gateways admit anonymous connections. At the token's expiry
 * the connection is closed with 4401, unless the client sent
 * `{ "event": "cognito:refresh", "data": { "token": "…" } }` before (the reply says whether it was accepted).
 *
 * @publicApi
 */
export class CognitoWsAdapter extends WsAdapterBase {
  private readonly cognitoApp: unknown;
  private readonly servers = new WeakMap<object, { port: number; path: unknown }>();
  /** Each connection is admitted once, however many gateways share its server. */
  private readonly admissions = new WeakMap<object, Promise<CognitoSocketAuth | undefined>>();
  private readonly connectionRules = new WeakMap<object, () => GatewayRules[]>();
  /** Clients whose `cognito:refresh` handler is bound (once, however many gateways). */
  private readonly refreshBound = new WeakSet<object>();
  private realtimeService: RealtimeAuthService | undefined;

  constructor(app?: INestApplicationContext | object, options?: unknown) {
    super(app as never, options as never);
    this.cognitoApp = app;
  }

  /** CognitoModule's service, looked up in the application once (not on every connection). */
  private realtime(): RealtimeAuthService {
    this.realtimeService ??= realtimeAuthOf(this.cognitoApp, 'CognitoWsAdapter');
    return this.realtimeService;
  }

  override create(port: number, options?: Record<string, any>): any {
    const server = super.create(port, options as never);
    if (typeof server === 'object' && server !== null) this.servers.set(server, { port, path: options?.path });
    return server;
  }

  override bindClientConnect(server: WsServer, callback: (client: WsClient, request: unknown) => void): void {
    const realtime = this.realtime();
    const where = this.servers.get(server) ?? { port: 0, path: undefined };
    let rules: GatewayRules[] | undefined;
    const gatewayRules = () => (rules ??= realtime.gatewayRules((gateway) => gateway.port === where.port && samePath(gateway.options.path, where.path)));

    server.on('connection', (client, request) => {
      let admission = this.admissions.get(client);
      let held: unknown[][] | undefined;
      if (admission === undefined) {
        // Messages that arrive while the token is checked wait for the gateway's handlers.
        // Bounded: a client could otherwise pile up messages while a slow check (a JWKS fetch) runs.
        held = [];
        let heldBytes = 0;
        const hold = (...args: unknown[]) => {
          heldBytes += byteLength(args[0]);
          if (held!.length >= MAX_HELD_MESSAGES || heldBytes > MAX_HELD_BYTES) {
            client.off('message', hold);
            held!.length = 0;
            client.close(POLICY_VIOLATION, 'Too many messages before the connection was authenticated');
            return;
          }
          held!.push(args);
        };
        client.on('message', hold);
        admission = realtime.admit({ request }, gatewayRules());
        this.admissions.set(client, admission);
        this.connectionRules.set(client, gatewayRules);
        admission.then(
          (auth) => {
            client.off('message', hold);
            if (client.readyState !== OPEN) return;
            setSocketAuth(client, auth);
            realtime.watchExpiry(client, (refusal) => close(client, refusal), () => client.readyState === OPEN);
            client.once('close', () => realtime.forget(client));
            // NestJS 11's WebSocket filter reports an error with client.emit('exception', …), which a
            // `ws` client only hears locally; this sends it (NestJS 12 sends it itself, and emits nothing).
            client.on('exception', (payload: unknown) => {
              if (client.readyState === OPEN) client.send(JSON.stringify({ event: 'exception', data: payload }));
            });
            // After every gateway's handlers are bound (their callbacks run before this microtask).
            queueMicrotask(() => {
              for (const args of held!) client.emit('message', ...args);
            });
          },
          (error: unknown) => {
            client.off('message', hold);
            close(client, realtime.refusal(error));
          },
        );
      }
      admission.then(
        () => {
          if (client.readyState === OPEN) callback(client, request);
        },
        () => undefined,
      );
    });
  }

  override bindMessageHandlers(client: WsClient, handlers: Handler[], transform: (data: any) => any): void {
    const rules = this.connectionRules.get(client);
    if (rules === undefined || this.refreshBound.has(client)) return super.bindMessageHandlers(client as never, handlers as never, transform);
    this.refreshBound.add(client);
    const realtime = this.realtime();
    const refresh: Handler = {
      message: COGNITO_REFRESH_EVENT,
      callback: async (data: unknown) => ({
        event: COGNITO_REFRESH_EVENT,
        data: await realtime.refresh(client, data, rules(), (refusal) => close(client, refusal), () => client.readyState === OPEN),
      }),
    };
    super.bindMessageHandlers(client as never, [...handlers, refresh] as never, transform);
  }
}

adoptBaseWhenLoaded(CognitoWsAdapter, '@nestjs/platform-ws', 'WsAdapter');

function byteLength(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (Array.isArray(data)) return data.reduce((total: number, part: unknown) => total + byteLength(part), 0);
  return (data as { byteLength?: number } | undefined)?.byteLength ?? 0;
}

function close(client: WsClient, refusal: CognitoRealtimeRefusal): void {
  if (client.readyState > OPEN) return;
  client.close(refusal.closeCode, fitReason(refusal.message));
}

function fitReason(reason: string): string {
  let fitted = reason;
  while (Buffer.byteLength(fitted) > MAX_REASON_BYTES) fitted = fitted.slice(0, -1);
  return fitted;
}

/** Nest normalises a gateway's path: a leading slash, no trailing one. */
function samePath(declared: unknown, created: unknown): boolean {
  return normalise(declared) === normalise(created);
}

function normalise(path: unknown): unknown {
  if (path === undefined || path === '') return '/';
  if (typeof path !== 'string') return path;
  const leading = path.startsWith('/') ? path : `/${path}`;
  return leading.length > 1 ? leading.replace(/\/+$/, '') : leading;
}
