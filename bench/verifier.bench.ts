/**
 * `npm run bench`: this module's verifier against aws-jwt-verify, jose and raw node:crypto,
 * side by side in one process on the same freshly minted Cognito-shaped tokens, plus a
 * guarded route against an unguarded one over HTTP (bench/http-app.ts, in its own process).
 *
 * These machines are shared: a neighbour can take a third of the CPU for a second and give it
 * back. So nothing is timed alone. Contenders take turns in blocks of a few milliseconds
 * within each round (the order rotates), every ratio is computed inside one round, and the
 * reported figure is the median over the rounds, with the spread printed next to it.
 */
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import autocannon from 'autocannon';
import { io, type Socket } from 'socket.io-client';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { createSign, generateKeyPairSync, randomBytes, randomUUID, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { execFileSync, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { TestRedis } from '../test/support/redis.js';
import { CognitoModule, JwksVerifierService, type CognitoCallbackHandler, type CognitoModuleOptions } from '../lib/index.js';

const POOL = 'eu-west-2_BenchPool1';
const CLIENT = 'benchclient';
const ISSUER = `https://cognito-idp.eu-west-2.amazonaws.com/${POOL}`;
const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DISTINCT = setting('BENCH_TOKENS', 4000);
const ROUNDS = setting('BENCH_ROUNDS', 30);
/** Per round, each contender runs BLOCKS blocks of BLOCK_OPS verifications, taking turns. */
const BLOCKS = setting('BENCH_BLOCKS', 20);
const BLOCK_OPS = setting('BENCH_BLOCK_OPS', 50);
const IN_FLIGHT = setting('BENCH_IN_FLIGHT', 1000);
const HTTP_ROUNDS = setting('BENCH_HTTP_ROUNDS', 24);
const HTTP_SECONDS = setting('BENCH_HTTP_SECONDS', 0.5);
const HTTP_CONNECTIONS = setting('BENCH_HTTP_CONNECTIONS', 50);
const HTTP_WARMUP_SECONDS = setting('BENCH_HTTP_WARMUP_SECONDS', 1);
/** socket.io connections in the WebSocket case (messages in flight, and connections opened at once). */
const WS_SOCKETS = setting('BENCH_WS_SOCKETS', 50);
/** The memory case: distinct bearer tokens and sessions, four times the default cache sizes. */
const MEMORY_TOKENS = setting('BENCH_MEMORY_TOKENS', 20_000);
const MEMORY_SESSIONS = setting('BENCH_MEMORY_SESSIONS', 5_000);

/** One contender's figures; `perRound` holds its rate in each round, for paired ratios. */
interface Result {
  name: string;
  perRound: number[];
  opsPerSec: number;
  p50: number;
  p99: number;
  rssMb: number;
  unit: string;
}

// ---- tokens -----------------------------------------------------------------
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench-key', alg: 'RS256', use: 'sig' };
const jwks = { keys: [jwk] } as JSONWebKeySet;

function mintAccessToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const header = Buffer.from(JSON.stringify({ kid: 'bench-key', alg: 'RS256' })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({
      sub: randomUUID(),
      'cognito:groups': ['staff'],
      iss: ISSUER,
      version: 2,
      client_id: CLIENT,
      origin_jti: randomUUID(),
      event_id: randomUUID(),
      token_use: 'access',
      scope: 'openid email profile orders/read',
      auth_time: now,
      exp: now + 3600,
      iat: now,
      jti: randomUUID(),
      username: 'bench-user',
    }),
  ).toString('base64url');
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

// ---- measurement ------------------------------------------------------------
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)];
};

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Between rounds, so one contender's garbage is not collected on another's time. */
const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function result(name: string, perRound: number[], latencies: number[], unit = 'ops/s'): Result {
  const sorted = Float64Array.from(latencies).sort();
  return { name, perRound, opsPerSec: median(perRound), p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), rssMb: process.memoryUsage().rss / 2 ** 20, unit };
}

interface Contender {
  name: string;
  /** The tokens this contender gets, in order; every contender of a comparison gets the same. */
  tokens: string[];
  /** Runs before each round, untimed (a fresh verifier for the distinct-token cases). */
  prepare?: () => Promise<void>;
  verify: (token: string) => Promise<unknown> | unknown;
}

/**
 * A warm-up round (JIT, key import; not counted), then ROUNDS rounds. Before each, every
 * contender prepares and garbage is collected; `play` runs one round and returns each
 * contender's rate in it, reporting latencies as it goes.
 */
async function inRounds(
  contenders: Contender[],
  tokensPerRound: number,
  play: (turn: number, cursor: number, latency: (index: number, ms: number) => void) => Promise<number[]>,
): Promise<Result[]> {
  const perRound = contenders.map(() => [] as number[]);
  const latencies = contenders.map(() => [] as number[]);
  for (let round = -1, cursor = 0; round < ROUNDS; round++, cursor += tokensPerRound) {
    for (const contender of contenders) await contender.prepare?.();
    collectGarbage();
    const counted = round >= 0;
    const rates = await play(round + 1, cursor, (index, ms) => counted && latencies[index].push(ms));
    if (counted) rates.forEach((rate, index) => perRound[index].push(rate));
  }
  return contenders.map(({ name }, index) => result(name, perRound[index], latencies[index]));
}

/**
 * Awaited one at a time. In each round the contenders take turns running blocks of
 * BLOCK_OPS verifications on the same tokens; each verification is timed on its own.
 */
function sequential(contenders: Contender[]): Promise<Result[]> {
  return inRounds(contenders, BLOCKS * BLOCK_OPS, async (turn, cursor, latency) => {
    const spent = contenders.map(() => 0);
    for (let block = 0; block < BLOCKS; block++) {
      for (const index of turnOrder(contenders.length, turn * BLOCKS + block)) {
        const { tokens, verify } = contenders[index];
        for (let op = 0; op < BLOCK_OPS; op++) {
          const token = tokens[(cursor + block * BLOCK_OPS + op) % tokens.length];
          const start = performance.now();
          await verify(token);
          const elapsed = performance.now() - start;
          spent[index] += elapsed;
          latency(index, elapsed);
        }
      }
    }
    return spent.map((ms) => (BLOCKS * BLOCK_OPS * 1000) / ms);
  });
}

/** IN_FLIGHT verifications started at once; each round, one batch per contender, in turn. */
function concurrent(contenders: Contender[]): Promise<Result[]> {
  return inRounds(contenders, IN_FLIGHT, async (turn, cursor, latency) => {
    const rates = contenders.map(() => 0);
    for (const index of turnOrder(contenders.length, turn)) {
      const { tokens, verify } = contenders[index];
      const start = performance.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async (_, op) => {
          await verify(tokens[(cursor + op) % tokens.length]);
          latency(index, performance.now() - start);
        }),
      );
      rates[index] = (IN_FLIGHT * 1000) / (performance.now() - start);
    }
    return rates;
  });
}

/**
 * The order in which contenders take their turns: the rows of a balanced Latin square (a Williams
 * design), so that over `count` turns (`2 × count` when `count` is odd) every contender takes every
 * position once and follows every other contender equally often. None always inherits another's
 * cache misses and garbage (the distinct-token route leaves plenty). An earlier version walked
 * through all the permutations in order; 24 rounds of 6 routes saw only 24 of the 720, in which
 * three routes kept the same order and one route ran first in most rounds.
 */
function turnOrder(count: number, turn: number): number[] {
  // First row 0, 1, n-1, 2, n-2, …; row r adds r (mod n); odd n also needs the mirrored rows.
  const first: number[] = [];
  for (let low = 0, high = count - 1, take = 0; first.length < count; take++) first.push(take % 2 === 0 ? low++ : high--);
  const rows = count % 2 === 0 ? count : 2 * count;
  const row = turn % rows;
  const order = first.map((value) => (value + row) % count);
  return row < count ? order : order.reverse();
}

/** The median of the per-round ratios a/b, and their range. */
function pairedRatio(a: Result, b: Result): { median: number; low: number; high: number } {
  const ratios = a.perRound.map((rate, round) => rate / b.perRound[round]);
  return { median: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) };
}

type AppOptions = Omit<CognitoModuleOptions, 'callbackHandler'>;

interface HttpApp {
  url: string;
  /** The second app of the process, with `optionsB`. */
  urlB?: string;
  rss: () => Promise<number>;
  /** Heap in use after a full collection. */
  heap: () => Promise<number>;
  stop: () => void;
}

/**
 * With two cores or more (and BENCH_PIN not 0), the HTTP and WebSocket cases run the app on core
 * 1 and this process, which drives autocannon, on core 0: otherwise the scheduler moves both
 * around and puts them on one core now and then, which spread single rounds from 0.5 to 1.7 in
 * one run. Only from the first app on: pinned with its compiler and GC threads, this process
 * verified repeated tokens several times slower. Without `taskset` (util-linux), nothing is pinned.
 */
let pinned: boolean | undefined;
function pinForHttp(): boolean {
  pinned ??= process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && pinnedTo(0, process.pid);
  return pinned;
}

function pinnedTo(core: number, pid: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts bench/http-app.js in a process of its own and waits for its URL. */
async function startHttpApp(options: AppOptions, platform: 'fastify' | 'express' = 'fastify', gateway = false, optionsB?: AppOptions): Promise<HttpApp> {
  const child = fork(fileURLToPath(new URL('./http-app.js', import.meta.url)), {
    env: {
      ...process.env,
      BENCH_APP_OPTIONS: JSON.stringify(options),
      BENCH_APP_PLATFORM: platform,
      BENCH_APP_GATEWAY: gateway ? '1' : '0',
      ...(optionsB === undefined ? {} : { BENCH_APP_OPTIONS_B: JSON.stringify(optionsB) }),
    },
    execArgv: ['--expose-gc'],
  });
  if (pinForHttp() && child.pid !== undefined) pinnedTo(1, child.pid);
  const next = <T>(pick: (message: unknown) => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        const value = pick(message);
        if (value === undefined) return;
        child.off('message', onMessage);
        resolve(value);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`bench/http-app exited with code ${code}`)));
    });
  const { url, urlB } = await next((message) => ((message as { url?: string }).url === undefined ? undefined : (message as { url: string; urlB?: string })));
  return {
    url,
    urlB,
    rss: () => {
      child.send('rss');
      return next((message) => (message as { rss?: number }).rss);
    },
    heap: () => {
      child.send('heap');
      return next((message) => (message as { heap?: number }).heap);
    },
    stop: () => child.disconnect(),
  };
}

/** A session made by the app itself for these tokens: the Cookie header a browser would send back. */
async function sessionCookie(app: HttpApp, accessToken: string): Promise<string> {
  // A Cognito refresh token is an encrypted JWT of about 1.7 KB.
  const refreshToken = randomBytes(1300).toString('base64url');
  const response = await fetch(`${app.url}/bench/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accessToken, refreshToken }) });
  if (response.status !== 201) throw new Error(`POST /bench/session answered ${response.status}`);
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .filter((pair) => !pair.endsWith('='))
    .join('; ');
}

@Injectable()
class NoopHandler implements CognitoCallbackHandler {
  onSuccess(): void {}
}

async function main(): Promise<void> {
  const jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  const options = {
    userPoolId: POOL,
    clientId: CLIENT,
    domain: 'https://bench.auth.eu-west-2.amazoncognito.com',
    redirectUri: 'https://app.example.com/auth/callback',
    cookieSecret: '2w4N_kUc43c5oTiyEW9Ir7B0hfDG1rVMmhEkKEOiJ5Y',
    jwksUri,
    tokenSources: ['header'] as const,
  } satisfies Omit<CognitoModuleOptions, 'callbackHandler'>;
  if (BLOCKS * BLOCK_OPS > DISTINCT || IN_FLIGHT > DISTINCT) throw new Error('BENCH_TOKENS must cover one round (BENCH_BLOCKS × BENCH_BLOCK_OPS and BENCH_IN_FLIGHT)');
  if ((globalThis as { gc?: unknown }).gc === undefined) console.log('(run with node --expose-gc to collect garbage between rounds)');

  process.stdout.write(`minting ${DISTINCT} tokens… `);
  const tokens = Array.from({ length: DISTINCT }, mintAccessToken);
  console.log('done');

  /**
   * A verifier with warm keys and an empty verified-token cache. The distinct-token cases get
   * a new one every round, so "distinct" means tokens this verifier has never seen.
   */
  const freshVerifier = async () => {
    const moduleRef = await Test.createTestingModule({ imports: [CognitoModule.forRoot({ ...options, callbackHandler: NoopHandler })] }).compile();
    const verifier = moduleRef.get(JwksVerifierService);
    await verifier.verifyAccessToken(mintAccessToken());
    return { verifier, close: () => moduleRef.close() };
  };
  let current = await freshVerifier();
  let ours = current.verifier;
  const renewOurs = async () => {
    await current.close();
    current = await freshVerifier();
    ours = current.verifier;
  };
  const aws = CognitoJwtVerifier.create({ userPoolId: POOL, tokenUse: 'access', clientId: CLIENT });
  aws.cacheJwks(jwks as never);
  // aws-jwt-verify at its best: with the JWKS cached, its docs offer verifySync, which skips the
  // promise machinery of verify (about 6 % faster here).
  const awsVerify = (token: string) => aws.verifySync(token);
  const joseKeys = createLocalJWKSet(jwks);
  const joseVerify = (token: string) => jwtVerify(token, joseKeys, { issuer: ISSUER, algorithms: ['RS256'] });
  // The floor: the signature check alone, on input and signature split and decoded beforehand.
  const cryptoKey: KeyObject = publicKey;
  const split = new Map(
    tokens.map((token) => {
      const dot = token.lastIndexOf('.');
      return [token, { input: Buffer.from(token.slice(0, dot)), signature: Buffer.from(token.slice(dot + 1), 'base64url') }];
    }),
  );
  const rawCrypto = (token: string) => {
    const { input, signature } = split.get(token)!;
    if (!cryptoVerify('RSA-SHA256', input, cryptoKey, signature)) throw new Error('bad signature');
  };

  // Sanity: every contender accepts the tokens.
  await ours.verifyAccessToken(tokens[1]);
  awsVerify(tokens[1]);
  await joseVerify(tokens[1]);
  rawCrypto(tokens[1]);

  const results: Result[] = [];
  const report = (list: Result[]): Result[] => {
    for (const r of list) {
      results.push(r);
      console.log(`  ${r.name.padEnd(50)} ${Math.round(r.opsPerSec).toString().padStart(9)} ${r.unit}`);
    }
    return list;
  };

  console.log(`verification: median of ${ROUNDS} rounds; in each, contenders take turns in blocks of ${BLOCK_OPS} (distinct: a fresh verifier per round):`);
  const [oursSeq, awsSeq, cryptoSeq] = report(
    await sequential([
      { name: 'nestjs-cognito-lowlevel, distinct, sequential', tokens, prepare: renewOurs, verify: (t) => ours.verifyAccessToken(t) },
      { name: 'aws-jwt-verify, distinct, sequential', tokens, verify: awsVerify },
      { name: 'node:crypto verify only, distinct, sequential', tokens, verify: rawCrypto },
      { name: 'jose jwtVerify, distinct, sequential', tokens, verify: joseVerify },
    ]),
  );
  const [oursConc, awsConc] = report(
    await concurrent([
      { name: `nestjs-cognito-lowlevel, distinct, ${IN_FLIGHT} in flight`, tokens, prepare: renewOurs, verify: (t) => ours.verifyAccessToken(t) },
      { name: `aws-jwt-verify, distinct, ${IN_FLIGHT} in flight`, tokens, verify: awsVerify },
      { name: `jose jwtVerify, distinct, ${IN_FLIGHT} in flight`, tokens, verify: joseVerify },
    ]),
  );
  const repeated = [tokens[0]];
  const [oursRepeated, awsRepeated] = report(
    await sequential([
      { name: 'nestjs-cognito-lowlevel, one repeated token', tokens: repeated, verify: (t) => ours.verifyAccessToken(t) },
      { name: 'aws-jwt-verify, one repeated token', tokens: repeated, verify: awsVerify },
    ]),
  );

  // ---- HTTP: the same app, a guarded and an unguarded route --------------------
  // A cache of 1,000 verified tokens: the distinct tokens (4,000, in turn) are always gone from
  // it when they come round again, so that route always pays for the RSA check, while the one
  // repeated token stays cached (the cache admits a token on its second sighting, and the
  // distinct ones are never seen twice within 1,000 others). The guard reads the header, then
  // the session cookie; the cookie route brings the cookie of a session the app made for the
  // very token the bearer route sends, so only the credential differs.
  const httpOptions: AppOptions = { ...options, tokenSources: ['header', 'cookie'], verifiedTokenCacheSize: 1000 };
  const headers = { authorization: `Bearer ${tokens[2]}` };
  let nextToken = 3;
  const distinctRequests = [
    {
      method: 'GET' as const,
      setupRequest: (request: { headers?: Record<string, string> }) => ({ ...request, headers: { authorization: `Bearer ${tokens[nextToken++ % tokens.length]}` } }),
    },
  ];
  interface Route {
    name: string;
    path: string;
    distinct?: boolean;
    cookie?: boolean;
  }
  const measure = async (platform: 'fastify' | 'express', routes: Route[]): Promise<Result[]> => {
    const app = await startHttpApp(httpOptions, platform);
    const cookie = await sessionCookie(app, tokens[2]);
    const load = async ({ path, distinct, cookie: withCookie }: Route, seconds: number) => {
      const outcome = await autocannon({
        url: `${app.url}${path}`,
        connections: HTTP_CONNECTIONS,
        duration: seconds,
        headers: withCookie ? { cookie } : headers,
        ...(distinct ? { requests: distinctRequests as autocannon.Request[] } : {}),
      });
      if (outcome.non2xx > 0 || outcome.errors > 0) throw new Error(`${path}: ${outcome.non2xx} non-2xx, ${outcome.errors} errors, status codes ${JSON.stringify(outcome.statusCodeStats)}`);
      return outcome;
    };
    for (const route of routes) await load(route, HTTP_WARMUP_SECONDS);
    const label = platform === 'fastify' ? 'Fastify' : 'Express';
    const where = pinForHttp() ? 'the app alone in its own process on core 1; autocannon here, on core 0' : 'the app alone in its own process; autocannon here';
    console.log(`HTTP on 127.0.0.1, ${label}: median of ${HTTP_ROUNDS} rounds; in each, every route gets ${HTTP_SECONDS} s in turn (${where}, ${HTTP_CONNECTIONS} connections):`);
    const rates = routes.map(() => [] as number[]);
    const latency = routes.map(() => ({ p50: [] as number[], p99: [] as number[] }));
    for (let round = 0; round < HTTP_ROUNDS; round++) {
      for (const index of turnOrder(routes.length, round)) {
        const outcome = await load(routes[index], HTTP_SECONDS);
        rates[index].push(outcome.requests.total / outcome.duration);
        latency[index].p50.push(outcome.latency.p50);
        latency[index].p99.push(outcome.latency.p99);
      }
    }
    const serverRssMb = (await app.rss()) / 2 ** 20;
    app.stop();
    return report(
      routes.map(({ name }, index) => ({
        name: `${name}, ${label}`,
        perRound: rates[index],
        opsPerSec: median(rates[index]),
        p50: median(latency[index].p50),
        p99: median(latency[index].p99),
        rssMb: serverRssMb,
        unit: 'req/s',
      })),
    );
  };
  // Each credential is measured against the unguarded route receiving the very same request
  // (the bearer header, or the session cookie of 3.8 KB): only the guard differs.
  const [unguarded, unguardedCookie, , guarded, cookieGuarded, guardedDistinct] = await measure('fastify', [
    { name: 'GET /unguarded', path: '/unguarded' },
    { name: 'GET /unguarded (with the session cookie)', path: '/unguarded', cookie: true },
    { name: 'GET /noop-guard (a guard that allows all)', path: '/noop-guard' },
    { name: 'GET /guarded (one bearer access token)', path: '/guarded' },
    { name: 'GET /guarded (the session cookie)', path: '/guarded', cookie: true },
    // The guard's RSA path: every request brings a token the app has not cached.
    { name: 'GET /guarded (a distinct token per request)', path: '/guarded', distinct: true },
  ]);
  const [expressUnguarded, expressUnguardedCookie, expressGuarded, expressCookie] = await measure('express', [
    { name: 'GET /unguarded', path: '/unguarded' },
    { name: 'GET /unguarded (with the session cookie)', path: '/unguarded', cookie: true },
    { name: 'GET /guarded (one bearer access token)', path: '/guarded' },
    { name: 'GET /guarded (the session cookie)', path: '/guarded', cookie: true },
  ]);
  await current.close();

  // ---- revocation with Redis: the same guard, with and without a fleet's revocation list ----
  const [guardedLocal, guardedRevocation] = report(await measureRevocation(httpOptions, headers));

  // ---- WebSocket: a guarded gateway handler against an unguarded one (socket.io) ----------
  const [wsOpen, wsGuarded, wsSetup, wsSetupAnonymous] = report(await measureGateway(options, tokens));

  // ---- memory: distinct tokens and sessions through the guard ------------------
  // Four times the default cache sizes (5,000 verified tokens, 1,250 opened sessions), so both
  // caches evict; the heap that stays after a full collection must not grow with the traffic.
  process.stdout.write(`memory: minting ${MEMORY_TOKENS} more tokens… `);
  const memoryTokens = Array.from({ length: MEMORY_TOKENS }, mintAccessToken);
  console.log('done');
  const memoryApp = await startHttpApp({ ...options, tokenSources: ['header', 'cookie'] });
  const send = async (amount: number, next: () => Record<string, string>) => {
    const outcome = await autocannon({
      url: `${memoryApp.url}/guarded`,
      connections: HTTP_CONNECTIONS,
      amount,
      requests: [{ method: 'GET', setupRequest: (request: object) => ({ ...request, headers: next() }) }] as autocannon.Request[],
    });
    if (outcome.non2xx > 0 || outcome.errors > 0) throw new Error(`memory case: ${outcome.non2xx} non-2xx, ${outcome.errors} errors`);
  };
  let cursor = 0;
  await send(500, () => ({ authorization: `Bearer ${tokens[cursor++ % Math.min(100, tokens.length)]}` })); // warm-up: code paths, not caches
  const heapBefore = await memoryApp.heap();
  cursor = 0;
  await send(MEMORY_TOKENS, () => ({ authorization: `Bearer ${memoryTokens[cursor++]}` }));
  const cookies: string[] = [];
  for (let start = 0; start < MEMORY_SESSIONS; start += 50) {
    const batch = memoryTokens.slice(start, Math.min(start + 50, MEMORY_SESSIONS));
    cookies.push(...(await Promise.all(batch.map((token) => sessionCookie(memoryApp, token)))));
  }
  cursor = 0;
  // Each session twice: the second sighting is what a cache admits.
  await send(MEMORY_SESSIONS * 2, () => ({ cookie: cookies[cursor++ % cookies.length] }));
  const heapGrowthMb = ((await memoryApp.heap()) - heapBefore) / 2 ** 20;
  const memoryRssMb = (await memoryApp.rss()) / 2 ** 20;
  memoryApp.stop();
  jwksServer.close();
  console.log(
    `  heap growth after ${MEMORY_TOKENS} distinct bearer tokens and ${MEMORY_SESSIONS} distinct sessions (each twice), after a full collection: ` +
      `${heapGrowthMb.toFixed(1)} MB (bound 64 MB); server RSS ${memoryRssMb.toFixed(0)} MB`,
  );

  console.log('');
  console.log(`| ${'case'.padEnd(50)} | ${'ops/s'.padStart(9)} | ${'p50 ms'.padStart(8)} | ${'p99 ms'.padStart(8)} | ${'RSS MB'.padStart(7)} |`);
  console.log(`| ${'-'.repeat(50)} | ${'-'.repeat(9)} | ${'-'.repeat(8)} | ${'-'.repeat(8)} | ${'-'.repeat(7)} |`);
  for (const r of results) {
    console.log(`| ${r.name.padEnd(50)} | ${Math.round(r.opsPerSec).toString().padStart(9)} | ${r.p50.toFixed(3).padStart(8)} | ${r.p99.toFixed(3).padStart(8)} | ${r.rssMb.toFixed(0).padStart(7)} |`);
  }
  const ratios: [string, Result, Result][] = [
    ['distinct_seq_vs_aws', oursSeq, awsSeq],
    ['distinct_conc_vs_aws', oursConc, awsConc],
    ['repeated_vs_aws', oursRepeated, awsRepeated],
    ['distinct_seq_vs_node_crypto', oursSeq, cryptoSeq],
    ['guarded_vs_unguarded_http', guarded, unguarded],
    ['cookie_guarded_vs_unguarded_http', cookieGuarded, unguardedCookie],
    ['ws_guarded_vs_unguarded', wsGuarded, wsOpen],
    ['revocation_guarded_vs_guarded', guardedRevocation, guardedLocal],
  ];

  console.log('');
  console.log('ratio of rates within each round: median (lowest–highest round)');
  const medians = ratios.map(([label, a, b]) => {
    const { median: m, low, high } = pairedRatio(a, b);
    console.log(`  ${label.padEnd(28)} ${m.toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)})`);
    return `${label}=${m.toFixed(2)}`;
  });
  // For reading, not on the ratios line: it has no target (the RSA check is the cost).
  const distinctHttp = pairedRatio(guardedDistinct, unguarded);
  console.log(`  ${'guarded_distinct_vs_unguarded_http'.padEnd(28)} ${distinctHttp.median.toFixed(2)} (${distinctHttp.low.toFixed(2)}–${distinctHttp.high.toFixed(2)}), no target`);
  // Express: for reading beside the Fastify figures. The cookie must cost no more than the
  // bearer token: the last line divides the two guarded-to-unguarded ratios, round by round.
  const expressBearer = pairedRatio(expressGuarded, expressUnguarded);
  const expressSession = pairedRatio(expressCookie, expressUnguardedCookie);
  const cookieVsBearer = expressCookie.perRound.map(
    (rate, round) => rate / expressUnguardedCookie.perRound[round] / (expressGuarded.perRound[round] / expressUnguarded.perRound[round]),
  );
  for (const [label, { median: m, low, high }] of [
    ['express_guarded_vs_unguarded_http', expressBearer],
    ['express_cookie_guarded_vs_unguarded_http', expressSession],
    ['express_cookie_vs_bearer_http', { median: median(cookieVsBearer), low: Math.min(...cookieVsBearer), high: Math.max(...cookieVsBearer) }],
  ] as const) {
    console.log(`  ${label.padEnd(28)} ${m.toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)})`);
  }
  const setup = pairedRatio(wsSetup, wsSetupAnonymous);
  console.log(`  ${'ws_connect_distinct_vs_anonymous'.padEnd(28)} ${setup.median.toFixed(2)} (${setup.low.toFixed(2)}–${setup.high.toFixed(2)}), no target`);
  console.log(`memory heap_growth_mb=${heapGrowthMb.toFixed(1)} (bound 64)`);
  console.log(`ratios ${medians.join(' ')}`);
}

/**
 * `GET /guarded` with one bearer token on two apps that differ only by `redisUrl`: one alone, one
 * in a fleet's Redis (a redis-server of the bench's own) whose revocation list holds 1,000 revoked
 * token families and 100 revoked users, so every request does the lookups a fleet's does. Both
 * apps live in one process (on core 1), so they share the JIT and the heap: two processes
 * differed by up to a tenth from run to run whatever they ran. Turns alternate as above.
 */
async function measureRevocation(options: AppOptions, headers: Record<string, string>): Promise<Result[]> {
  const redis = await TestRedis.start();
  const admin = new Redis(redis.url);
  const until = Date.now() + 24 * 3600 * 1000;
  await admin.zadd('cognito:revocations', ...Array.from({ length: 1000 }, () => [until, `f:${randomUUID()}`]).flat());
  await admin.zadd('cognito:revocations', ...Array.from({ length: 100 }, () => [until, `u:${randomUUID()}:${Date.now()}`]).flat());
  admin.disconnect();
  const host = await startHttpApp(options, 'fastify', false, { ...options, redisUrl: redis.url });
  const apps = [host.url, host.urlB!];
  const load = async (url: string, seconds: number) => {
    const outcome = await autocannon({ url: `${url}/guarded`, connections: HTTP_CONNECTIONS, duration: seconds, headers });
    if (outcome.non2xx > 0 || outcome.errors > 0) throw new Error(`revocation case: ${outcome.non2xx} non-2xx, ${outcome.errors} errors`);
    return outcome.requests.total / outcome.duration;
  };
  for (const app of apps) await load(app, HTTP_WARMUP_SECONDS);
  console.log(`Revocation on 127.0.0.1, Fastify: median of ${HTTP_ROUNDS} rounds; the guard with a bearer token, without Redis and with a fleet's revocation list:`);
  const rates = apps.map(() => [] as number[]);
  for (let round = 0; round < HTTP_ROUNDS; round++) {
    for (const index of turnOrder(apps.length, round)) rates[index].push(await load(apps[index], HTTP_SECONDS));
  }
  const rssMb = (await host.rss()) / 2 ** 20;
  host.stop();
  await redis.stop();
  return ['GET /guarded (bearer), no Redis', 'GET /guarded (bearer), revocation list on Redis'].map((name, index) => ({
    name: `${name}, Fastify`,
    unit: 'req/s',
    perRound: rates[index],
    opsPerSec: median(rates[index]),
    p50: 0,
    p99: 0,
    rssMb,
  }));
}

/**
 * Messages per second through an open socket.io gateway, to a guarded handler and to an
 * unguarded one, from WS_SOCKETS connections that each keep one message in flight (the token was
 * verified when the connection opened; the guard reads it from the socket). Then the connection
 * rate: WS_SOCKETS connecting at once, each with a token the app has not seen, against anonymous
 * connections (no target: the RSA check is the cost).
 */
async function measureGateway(options: AppOptions, tokens: string[]): Promise<Result[]> {
  const app = await startHttpApp({ ...options, wsTokenSources: ['handshake'] }, 'express', true);
  const url = `${app.url}/bench`;
  const connect = (token?: string) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = io(url, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
  const sockets = await Promise.all(tokens.slice(0, WS_SOCKETS).map((token) => connect(token)));
  const pump = async (event: string, seconds: number) => {
    let done = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      sockets.map(async (socket) => {
        while (performance.now() < until) {
          if ((await socket.emitWithAck(event)) !== 'ok') throw new Error(`${event}: the handler refused`);
          done++;
        }
      }),
    );
    return done / seconds;
  };
  let nextToken = WS_SOCKETS;
  const connectMany = async (withToken: boolean) => {
    const started = performance.now();
    const opened = await Promise.all(Array.from({ length: WS_SOCKETS }, () => connect(withToken ? tokens[nextToken++ % tokens.length] : undefined)));
    const rate = opened.length / ((performance.now() - started) / 1000);
    for (const socket of opened) socket.close();
    return rate;
  };
  const cases = [
    { name: 'socket.io message, unguarded handler', unit: 'msg/s', run: () => pump('open', HTTP_SECONDS) },
    { name: 'socket.io message, guarded handler', unit: 'msg/s', run: () => pump('guarded', HTTP_SECONDS) },
    { name: 'socket.io connect, a distinct token each', unit: 'conn/s', run: () => connectMany(true) },
    { name: 'socket.io connect, anonymous', unit: 'conn/s', run: () => connectMany(false) },
  ];
  await pump('open', HTTP_WARMUP_SECONDS);
  await pump('guarded', HTTP_WARMUP_SECONDS);
  console.log(`WebSocket on 127.0.0.1, Express + socket.io: median of ${HTTP_ROUNDS} rounds; ${WS_SOCKETS} connections, each with one message in flight, ${HTTP_SECONDS} s per turn:`);
  const rates = cases.map(() => [] as number[]);
  for (let round = 0; round < HTTP_ROUNDS; round++) {
    for (const index of turnOrder(cases.length, round)) rates[index].push(await cases[index].run());
  }
  for (const socket of sockets) socket.close();
  const rssMb = (await app.rss()) / 2 ** 20;
  app.stop();
  return cases.map(({ name, unit }, index) => ({ name, unit, perRound: rates[index], opsPerSec: median(rates[index]), p50: 0, p99: 0, rssMb }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
