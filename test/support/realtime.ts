import { once } from 'node:events';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';

/** A socket.io client that has connected, or the `connect_error` it got instead. */
export async function ioConnect(url: string, options: { auth?: Record<string, unknown>; headers?: Record<string, string> } = {}): Promise<{ socket?: Socket; error?: Error & { data?: { code: string; status: number } } }> {
  const socket = io(url, { auth: options.auth, extraHeaders: options.headers, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 10_000 });
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ socket }));
    socket.once('connect_error', (error: Error & { data?: { code: string; status: number } }) => {
      socket.close();
      resolve({ error });
    });
  });
}

type Refusal = { status: string; code?: string; message: string };

/**
 * Emits an event with an ack. A handler's answer comes back as `reply`; a refusal comes both as
 * the ack (so that emitWithAck does not wait forever) and as Nest's `exception` event, and is
 * returned as `exception` once both have arrived and agree.
 */
export function ioAsk(socket: Socket, event: string, data: unknown = {}): Promise<{ reply?: unknown; exception?: Refusal }> {
  return new Promise((resolve, reject) => {
    const exception = new Promise<Refusal>((arrived) => socket.once('exception', arrived));
    socket.emit(event, data, (reply: unknown) => {
      if ((reply as Refusal | undefined)?.status !== 'error') {
        resolve({ reply });
        return;
      }
      exception.then((event) => (JSON.stringify(event) === JSON.stringify(reply) ? resolve({ exception: event }) : reject(new Error('the ack and the exception event differ'))));
    });
  });
}

export interface WsConnection {
  socket: WebSocket;
  /** The next message the server sends, parsed. */
  next(): Promise<{ event: string; data: any }>;
  send(event: string, data?: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

/** A `ws` client; resolves when it opens (messages are queued from the start). */
export async function wsConnect(url: string, headers: Record<string, string> = {}): Promise<WsConnection> {
  const socket = new WebSocket(url, { headers });
  const queue: { event: string; data: any }[] = [];
  const waiting: ((message: { event: string; data: any }) => void)[] = [];
  socket.on('message', (raw) => {
    const message = JSON.parse(raw.toString());
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  await Promise.race([once(socket, 'open'), closed]);
  return {
    socket,
    next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    send: (event, data = {}) => socket.send(JSON.stringify({ event, data })),
    closed,
  };
}
