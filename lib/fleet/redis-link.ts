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
  zremrangebyscore(key: string, min: string | number, max: string | number): Promise<number>;
  zrange(key: string, start: number, stop: number, withScores: 'WITHSCORES'): Promise<string[]>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** A message between instances, on the one channel `<keyPrefix>events`. */
export type FleetMessage = { type: 'revoked'; member: string; until: number } | { type: 'refreshed'; key: string };

/**
 * The module's connections to Redis, when `redisUrl` or `redis` is set (otherwise `enabled` is
 * false and nothing here runs): one client for commands and one subscribed to the module's
 * channel. It knows whether this instance is in touch with the fleet: `inSync` is true once the
 * subscription is up and every `onResync` listener (the revocation list's reload) has caught up
 * after it, and false from the moment the subscription drops; `lostAt` says since when.
 *
 * Commands fail fast (`RedisUnavailableError`, after `httpTimeoutMs` at most) instead of waiting
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
  private closed = false;
  private readonly channel: string;

  constructor(@Inject(COGNITO_CONFIG) private readonly config: CognitoConfig) {
    this.settings = config.redis;
    this.enabled = this.settings !== undefined;
    this.keyPrefix = this.settings?.keyPrefix ?? 'cognito:';
    this.channel = `${this.keyPrefix}events`;
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
    if (subscriber.status === 'ready') this.onSubscriberReady();
    // Boot with the revocation list loaded when Redis answers; without Redis the app still boots,
    // and the stale-window policy applies from now.
    await Promise.race([this.whenSynced(), delay(Math.min(this.config.httpTimeoutMs, 3000))]);
    if (!this.inSync) this.logger.warn('Redis is not reachable yet; the revocation list will load when it is');
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.subscriber?.disconnect();
    // The app's own client (`redis`) is the app's to close; ours goes.
    if (this.settings?.url !== undefined) this.command?.disconnect();
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
    if (client === undefined || client.status !== 'ready') throw new RedisUnavailableError(`${what}: not connected`);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        commands(client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisUnavailableError(`${what}: no answer within ${this.config.httpTimeoutMs} ms`)), this.config.httpTimeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof RedisUnavailableError) throw error;
      // ioredis' messages name hosts, never passwords; still, only the code leaves here.
      const code = (error as { code?: unknown } | undefined)?.code;
      throw new RedisUnavailableError(`${what} failed (${typeof code === 'string' ? code : 'error'})`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  publish(message: FleetMessage): Promise<number> {
    return this.run('publish', (client) => client.publish(this.channel, JSON.stringify(message)));
  }

  private whenSynced(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.inSync || this.closed ? resolve() : setTimeout(check, 20).unref());
      check();
    });
  }

  private readonly onSubscriberReady = () => {
    void this.resync();
  };

  private readonly onCommandReady = () => {
    // A resync that failed for want of the command connection tries again now.
    if (!this.inSync && this.subscriber?.status === 'ready') void this.resync();
  };

  private readonly onSubscriberLost = () => {
    if (this.inSync) {
      this.inSync = false;
      this.lostAt = Date.now();
      if (!this.closed) this.logger.warn('Lost the Redis subscription; revocations from other instances wait until it is back');
    }
  };

  private readonly onError = (error: unknown) => {
    // ioredis reconnects by itself; without a listener, its errors would be unhandled.
    const code = (error as { code?: unknown } | undefined)?.code;
    this.logger.debug(`Redis: ${typeof code === 'string' ? code : 'error'}`);
  };

  private readonly onMessage = (channel: string, raw: string) => {
    if (channel !== this.channel) return;
    let message: FleetMessage;
    try {
      message = JSON.parse(raw) as FleetMessage;
    } catch {
      return;
    }
    for (const listener of this.listeners) listener(message);
  };

  /**
   * Subscribes (again) and lets every listener catch up on what it missed, e.g. reload the
   * revocation list: messages published while the subscription was down are gone for good.
   */
  private resync(): Promise<void> {
    this.resyncing ??= (async () => {
      try {
        await this.subscriber!.subscribe(this.channel);
        for (const resync of this.resyncs) await resync();
        if (this.subscriber!.status === 'ready') this.inSync = true;
      } catch {
        // Not yet: the next 'ready' of either connection tries again, and so does a timer, in
        // case both are up and the failure was a passing one.
        if (!this.closed) setTimeout(() => !this.inSync && this.subscriber?.status === 'ready' && void this.resync(), RESYNC_RETRY_MS).unref();
      } finally {
        this.resyncing = undefined;
      }
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
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** `ioredis` is an optional peer: loaded only when `redisUrl` is set. */
async function loadIoredis(): Promise<new (url: string, options: object) => unknown> {
  let loaded: { default?: unknown; Redis?: unknown } | undefined;
  try {
    // ioredis is CommonJS: `require` where there is one (the CommonJS build, Jest), else import().
    loaded = typeof require === 'function' ? require('ioredis') : await import('ioredis' as string);
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new CognitoConfigurationError([
      missing
        ? 'redisUrl needs the ioredis package: npm install ioredis'
        : `redisUrl needs the ioredis package, which is installed but failed to load: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`,
    ]);
  }
  const Redis = loaded?.Redis ?? loaded?.default;
  if (typeof Redis !== 'function') throw new CognitoConfigurationError(['redisUrl needs the ioredis package; the installed one exports no Redis class']);
  return Redis as new (url: string, options: object) => unknown;
}
