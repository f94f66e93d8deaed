import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { COGNITO_CONFIG } from '../cognito.constants.js';
import type { CognitoConfig, RedisSettings } from '../config/cognito-config.js';
import { CognitoConfigurationError } from '../errors/configuration.error.js';
import { RedisUnavailableError } from '../errors/redis-unavailable.error.js';

/** The few ioredis commands this module sends (Redis and Cluster clients both have them). */
interface RedisClient {
  readonly status: string;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  duplicate(): RedisClient;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ...args: (string | number)[]): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  sadd(key: string, ...members: string[]): Promise<number>;
  srem(key: string, ...members: string[]): Promise<number>;
  smembers(key: string): Promise<string[]>;
  expire(key: string, seconds: number): Promise<number>;
  zadd(key: string, ...scoreMembers: (string | number)[]): Promise<number | string>;
  zrem(key: string, ...members: string[]): Promise<number>;
  zremrangebyscore(key: string, min: string | number, max: string | number): Promise<number>;
  zrange(key: string, start: number, stop: number, withScores: 'WITHSCORES'): Promise<string[]>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>;
  ping(): Promise<string>;
  connect(): Promise<void>;
  disconnect(reconnect?: boolean): void;
}

/** A message between instances, on the one channel `<keyPrefix>events`. */
export type FleetMessage = { type: 'revoked'; member: string; until: number } | { type: 'refreshed'; key: string };

/** Anything else on the channel (another app's, a stray `PUBLISH`) is ignored, never trusted. */
function asFleetMessage(value: unknown): FleetMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (message.type === 'revoked' && typeof message.member === 'string' && message.member.length <= 512 && Number.isFinite(message.until)) {
    return { type: 'revoked', member: message.member, until: message.until as number };
  }
  if (message.type === 'refreshed' && typeof message.key === 'string' && message.key.length <= 64) return { type: 'refreshed', key: message.key };
  return undefined;
}

/**
 * The module's connections to Redis, when `redisUrl` or `redis` is set (otherwise `enabled` is
 * false and nothing here runs): one client for commands and one subscribed to the module's
 * channel. It knows whether this instance is in touch with the fleet: `inSync` is true once the
 * subscription is up and every `onResync` listener (the revocation list's reload) has caught up
 * after it, and false from the moment the subscription drops; `lostAt` says since when.
 *
 * Commands fail fast (`RedisUnavailableError`, after `commandTimeoutMs` at most) instead of waiting
 * in a queue: a request must never hang on Redis.
 *
 * @internal
 */
@Injectable()
export class RedisLink implements OnModuleInit, OnApplicationShutdown {
  readonly enabled: boolean;
  readonly keyPrefix: string;
  /** This process, in lock values: who holds a refresh lock. */
  readonly instanceId = randomUUID();
  inSync = false;
  /** Since when this instance is out of touch (boot counts as out of touch until the first sync). */
  lostAt = Date.now();
  private readonly logger = new Logger('CognitoModule');
  private readonly settings: RedisSettings | undefined;
  private command?: RedisClient;
  private subscriber?: RedisClient;
  private readonly listeners = new Set<(message: FleetMessage) => void>();
  private readonly resyncs: (() => Promise<void>)[] = [];
  private resyncing: Promise<void> | undefined;
  /** Bumped by every drop and every reconnection of the subscription: a resync that saw one must run again. */
  private generation = 0;
  /** When the subscription last answered (a message, a heartbeat). */
  private lastHeard = Date.now();
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly channel: string;
  /** The longest a command may take: a logout must not wait long for Redis. */
  private readonly commandTimeoutMs: number;
  /** What Redis last answered wrong (`WRONGPASS`, `ECONNREFUSED`): named in warnings and errors, never the message. */
  private lastProblem: string | undefined;

  constructor(@Inject(COGNITO_CONFIG) private readonly config: CognitoConfig) {
    this.settings = config.redis;
    this.enabled = this.settings !== undefined;
    this.keyPrefix = this.settings?.keyPrefix ?? 'cognito:';
    this.channel = `${this.keyPrefix}events`;
    this.commandTimeoutMs = Math.min(config.httpTimeoutMs, 2000);
  }

  /** Connects, subscribes and loads the shared state; waits a little for it, never fails the boot. */
  async onModuleInit(): Promise<void> {
    if (this.settings === undefined) return;
    const { command, subscriber } = await this.connect(this.settings);
    this.command = command;
    this.subscriber = subscriber;
    command.on('error', this.onError);
    subscriber.on('error', this.onError);
    subscriber.on('ready', this.onSubscriberReady);
    subscriber.on('close', this.onSubscriberLost);
    subscriber.on('end', this.onSubscriberLost);
    command.on('ready', this.onCommandReady);
    subscriber.on('message', this.onMessage);
    // An app's client made with `lazyConnect` (and its duplicate) would otherwise never connect.
    for (const client of [command, subscriber]) if (client.status === 'wait') client.connect().catch(() => undefined);
    if (subscriber.status === 'ready') this.onSubscriberReady();
    // A subscription can go quiet without closing (a partition, a stalled proxy): ask it to
    // answer, and count it lost when it does not.
    const every = Math.max(250, Math.min(5000, (this.settings.staleSeconds * 1000) / 3));
    this.heartbeat = setInterval(() => void this.checkSubscription(every), every).unref();
    // Boot with the revocation list loaded when Redis answers (a bounded wait, on a timer that
    // keeps the process alive); without Redis the app still boots, and the stale window counts from now.
    await this.whenSynced(Math.min(this.config.httpTimeoutMs, 3000));
    if (!this.inSync) this.logger.warn(`Redis is not reachable yet${this.because()}; the revocation list will load when it is`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.subscriber?.disconnect();
    if (this.settings?.url !== undefined) {
      this.command?.disconnect();
    } else {
      // The app's own client (`redis`) is the app's to close; only our listeners leave it.
      this.command?.off('error', this.onError);
      this.command?.off('ready', this.onCommandReady);
    }
  }

  /** Called with every message from the other instances (and this one). */
  onMessage$(listener: (message: FleetMessage) => void): void {
    this.listeners.add(listener);
  }

  /** Run after every (re)connection of the subscription, before the instance counts as in sync. */
  onResync(resync: () => Promise<void>): void {
    this.resyncs.push(resync);
  }

  /** Whether the shared state has been out of reach for longer than `redisStaleSeconds`. */
  isStale(): boolean {
    return this.enabled && !this.inSync && Date.now() - this.lostAt > this.settings!.staleSeconds * 1000;
  }

  /** Runs one or more commands, failing with `RedisUnavailableError` rather than waiting. */
  async run<T>(what: string, commands: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.command;
    if (client === undefined || client.status !== 'ready') throw new RedisUnavailableError(`${what}: not connected${this.because()}`);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        commands(client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisUnavailableError(`${what}: no answer within ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof RedisUnavailableError) throw error;
      throw new RedisUnavailableError(`${what} failed (${problemOf(error)})`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  publish(message: FleetMessage): Promise<number> {
    return this.run('publish', (client) => client.publish(this.channel, JSON.stringify(message)));
  }

  private whenSynced(withinMs: number): Promise<void> {
    const until = Date.now() + withinMs;
    return new Promise((resolve) => {
      const check = () => (this.inSync || this.closed || Date.now() >= until ? resolve() : setTimeout(check, 20));
      check();
    });
  }

  /** The heartbeat: a PING on the subscription (allowed while subscribed), within `every` ms. */
  private async checkSubscription(every: number): Promise<void> {
    const subscriber = this.subscriber;
    if (subscriber === undefined || subscriber.status !== 'ready' || this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      subscriber.ping().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), every).unref())),
    ]);
    clearTimeout(timer);
    if (answered) {
      this.lastHeard = Date.now();
      return;
    }
    if (this.closed) return;
    // Silent: out of touch since it last answered. Reconnecting resynchronises.
    if (this.inSync) {
      this.inSync = false;
      this.lostAt = this.lastHeard;
      this.logger.warn('The Redis subscription stopped answering; reconnecting');
    }
    this.generation++;
    subscriber.disconnect(true);
  }

  private readonly onSubscriberReady = () => {
    this.lastProblem = undefined;
    this.generation++;
    this.lastHeard = Date.now();
    void this.resync();
  };

  private readonly onCommandReady = () => {
    // A resync that failed for want of the command connection tries again now.
    if (!this.inSync && this.subscriber?.status === 'ready') void this.resync();
  };

  private readonly onSubscriberLost = () => {
    this.generation++;
    if (this.inSync) {
      this.inSync = false;
      this.lostAt = Date.now();
      if (!this.closed) this.logger.warn('Lost the Redis subscription; revocations from other instances wait until it is back');
    }
  };

  private readonly onError = (error: unknown) => {
    // ioredis reconnects by itself (without a listener, its errors would be unhandled). Said
    // once per kind of problem, not on every attempt: a wrong password is not an outage.
    const problem = problemOf(error);
    if (problem !== this.lastProblem) this.logger.warn(`Redis: ${problem}`);
    this.lastProblem = problem;
  };

  private because(): string {
    return this.lastProblem === undefined ? '' : ` (${this.lastProblem})`;
  }

  private readonly onMessage = (channel: string, raw: string) => {
    if (channel !== this.channel) return;
    this.lastHeard = Date.now();
    let message: FleetMessage | undefined;
    try {
      message = asFleetMessage(JSON.parse(raw));
    } catch {
      return;
    }
    if (message === undefined) return;
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        // A listener's bug must not become an uncaught exception inside ioredis.
        this.logger.error(`A Redis message could not be handled (${error instanceof Error ? error.name : typeof error})`);
      }
    }
  };

  /**
   * Subscribes (again) and lets every listener catch up on what it missed, e.g. reload the
   * revocation list: messages published while the subscription was down are gone for good.
   */
  private resync(): Promise<void> {
    this.resyncing ??= (async () => {
      const generation = this.generation;
      let again = false;
      try {
        await this.subscriber!.subscribe(this.channel);
        for (const resync of this.resyncs) await resync();
        // A drop or reconnection meanwhile may have lost messages after this snapshot: again.
        if (generation === this.generation && this.subscriber!.status === 'ready') this.inSync = true;
        else again = true;
      } catch {
        // Not yet: the next 'ready' of either connection tries again, and so does a timer, in
        // case both are up and the failure was a passing one.
        if (!this.closed) setTimeout(() => !this.inSync && this.subscriber?.status === 'ready' && void this.resync(), RESYNC_RETRY_MS).unref();
      } finally {
        this.resyncing = undefined;
      }
      if (again && !this.closed && this.subscriber!.status === 'ready') await this.resync();
    })();
    return this.resyncing;
  }

  private async connect(settings: RedisSettings): Promise<{ command: RedisClient; subscriber: RedisClient }> {
    if (settings.client !== undefined) {
      const command = settings.client as unknown as RedisClient;
      return { command, subscriber: command.duplicate() };
    }
    const Redis = await loadIoredis();
    const options = {
      // Fail fast instead of queueing: requests must not hang while Redis is away.
      enableOfflineQueue: false,
      // Closing while Redis is away must not keep the process alive (ioredis waits 2 s by default).
      disconnectTimeout: 100,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
    };
    const command = new Redis(settings.url!, options) as RedisClient;
    // The subscriber may queue its SUBSCRIBE until connected: it carries no request.
    const subscriber = new Redis(settings.url!, { ...options, enableOfflineQueue: true }) as RedisClient;
    return { command, subscriber };
  }
}

const RESYNC_RETRY_MS = 1000;

/**
 * A Redis failure named without its message (which could echo a command's arguments): the
 * socket error code (`ECONNREFUSED`), or the first word of Redis' reply (`WRONGPASS`, `NOAUTH`,
 * `OOM`, `READONLY`), else the error's class.
 */
function problemOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z_]{1,30}$/.test(code)) return code;
  const first = error instanceof Error ? /^([A-Z][A-Z_]{1,30})\b/.exec(error.message)?.[1] : undefined;
  return first ?? (error instanceof Error ? error.name : 'error');
}

/** `ioredis` is an optional peer: loaded only when `redisUrl` is set. */
async function loadIoredis(): Promise<new (url: string, options: object) => unknown> {
  let loaded: { default?: unknown; Redis?: unknown } | undefined;
  try {
    // ioredis is CommonJS: `require` where there is a working one (the CommonJS build, Jest
    // without ES module support), else import() (a bundler's stand-in `require` throws).
    try {
      loaded = typeof require === 'function' ? require('ioredis') : undefined;
    } catch {
      loaded = undefined;
    }
    loaded ??= (await import('ioredis' as string)) as { default?: unknown; Redis?: unknown };
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new CognitoConfigurationError([
      missing
        ? 'redisUrl (COGNITO_REDIS_URL) needs the ioredis package: npm install ioredis'
        : `redisUrl (COGNITO_REDIS_URL) needs the ioredis package, which is installed but failed to load: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`,
    ]);
  }
  const Redis = loaded?.Redis ?? loaded?.default;
  if (typeof Redis !== 'function') throw new CognitoConfigurationError(['redisUrl (COGNITO_REDIS_URL) needs the ioredis package; the installed one exports no Redis class']);
  return Redis as new (url: string, options: object) => unknown;
}
