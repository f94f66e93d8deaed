/**
 * `npm run bench`: this module's verifier against aws-jwt-verify, jose and raw node:crypto,
 * side by side in one process on the same freshly minted Cognito-shaped tokens, plus a
 * guarded route against an unguarded one over HTTP (autocannon in a worker thread).
 * Compare the ratios, not the absolute numbers: these machines are shared and noisy.
 */
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import autocannon from 'autocannon';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { createSign, generateKeyPairSync, randomUUID, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CognitoAuthGuard, CognitoModule, JwksVerifierService, type CognitoCallbackHandler } from '../lib/index.js';

const POOL = 'eu-west-2_BenchPool1';
const CLIENT = 'benchclient';
const ISSUER = `https://cognito-idp.eu-west-2.amazonaws.com/${POOL}`;
const DISTINCT = Number(process.env.BENCH_TOKENS ?? 12_000);
const SLICES = Number(process.env.BENCH_SLICES ?? 10);
/** Short enough that one slice never reaches the same token twice (under 12,000 verifications). */
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 200);
const HTTP_ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);
const HTTP_CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 50);

interface Result {
  name: string;
  opsPerSec: number;
  p50: number;
  p99: number;
  rssMb: number;
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
function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

interface Slice {
  ops: number;
  elapsedMs: number;
  latencies: number[];
}

/** Awaits one verification at a time for `ms`. */
async function sequentialSlice(tokens: string[], verify: (token: string) => Promise<unknown> | unknown, ms: number, offset: number): Promise<Slice> {
  const latencies: number[] = [];
  const start = performance.now();
  let ops = 0;
  while (performance.now() - start < ms) {
    const t = performance.now();
    await verify(tokens[(offset + ops) % tokens.length]);
    latencies.push(performance.now() - t);
    ops++;
  }
  return { ops, elapsedMs: performance.now() - start, latencies };
}

/** Keeps `inFlight` verifications running for `ms`; latency counts from the batch start. */
async function concurrentSlice(tokens: string[], verify: (token: string) => Promise<unknown>, ms: number, offset: number, inFlight = 1000): Promise<Slice> {
  const latencies: number[] = [];
  const start = performance.now();
  let ops = 0;
  while (performance.now() - start < ms) {
    const batchStart = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, (_, index) =>
        verify(tokens[(offset + ops + index) % tokens.length]).then(() => latencies.push(performance.now() - batchStart)),
      ),
    );
    ops += inFlight;
  }
  return { ops, elapsedMs: performance.now() - start, latencies };
}

/** Throughput of the best slice (the least disturbed by neighbours); latency over all slices. */
function summarize(name: string, slices: Slice[]): Result {
  const best = Math.max(...slices.map((slice) => (slice.ops / slice.elapsedMs) * 1000));
  const sorted = Float64Array.from(slices.flatMap((slice) => slice.latencies)).sort();
  return { name, opsPerSec: best, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), rssMb: process.memoryUsage().rss / 2 ** 20 };
}

// ---- the contenders -----------------------------------------------------------
@Injectable()
class NoopHandler implements CognitoCallbackHandler {
  onSuccess(): void {}
}

/** Nest's own cost of running a guard, for reference. */
@Injectable()
class AllowAllGuard {
  canActivate(): boolean {
    return true;
  }
}

@Controller()
class BenchController {
  @UseGuards(AllowAllGuard)
  @Get('noop-guard')
  noopGuard() {
    return { ok: true };
  }

  @Get('unguarded')
  unguarded() {
    return { ok: true };
  }

  @UseGuards(CognitoAuthGuard)
  @Get('guarded')
  guarded() {
    return { ok: true };
  }
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
    cookieSecret: 'YmVuY2gtY29va2llLXNlY3JldC10aGF0LWlzLWxvbmctZW5vdWdoLTEyMzQ1Njc4OTA',
    jwksUri,
    tokenSources: ['header'] as const,
    callbackHandler: NoopHandler,
  };

  process.stdout.write(`minting ${DISTINCT} tokens… `);
  const tokens = Array.from({ length: DISTINCT }, mintAccessToken);
  const repeated = [tokens[0]];
  console.log('done');

  /**
   * A verifier with an empty verified-token cache and warm keys: every slice of the distinct
   * cases gets its own, so "distinct" really means tokens this verifier has never seen.
   */
  const freshVerifier = async () => {
    const moduleRef = await Test.createTestingModule({ imports: [CognitoModule.forRoot(options)] }).compile();
    const verifier = moduleRef.get(JwksVerifierService);
    await verifier.verifyAccessToken(mintAccessToken());
    return verifier;
  };
  const ours = await freshVerifier();
  const aws = CognitoJwtVerifier.create({ userPoolId: POOL, tokenUse: 'access', clientId: CLIENT });
  aws.cacheJwks(jwks as never);
  const joseKeys = createLocalJWKSet(jwks);
  const cryptoKey: KeyObject = publicKey;
  const split = tokens.map((token) => {
    const dot = token.lastIndexOf('.');
    return { input: Buffer.from(token.slice(0, dot)), signature: Buffer.from(token.slice(dot + 1), 'base64url') };
  });
  let cryptoIndex = 0;
  const rawCrypto = () => {
    const { input, signature } = split[cryptoIndex++ % split.length];
    if (!cryptoVerify('RSA-SHA256', input, cryptoKey, signature)) throw new Error('bad signature');
  };

  // Sanity: every contender accepts the tokens.
  await ours.verifyAccessToken(tokens[1]);
  await aws.verify(tokens[1]);
  await jwtVerify(tokens[1], joseKeys, { issuer: ISSUER, algorithms: ['RS256'] });

  const results: Result[] = [];
  const report = (result: Result, unit = 'ops/s'): Result => {
    results.push(result);
    console.log(`  ${result.name.padEnd(50)} ${Math.round(result.opsPerSec).toString().padStart(9)} ${unit}`);
    return result;
  };
  type Case = { name: string; run: (ms: number, offset: number) => Promise<Slice> };
  /**
   * Runs the cases of one comparison in short interleaved slices, so a neighbour's load on
   * this shared machine hurts every case alike; each case reports its best slice.
   */
  const compare = async (cases: Case[]): Promise<Result[]> => {
    for (const { run } of cases) await run(300, 0); // warm up
    const slices: Slice[][] = cases.map(() => []);
    let offset = 0;
    for (let round = 0; round < SLICES; round++) {
      for (const [index, { run }] of cases.entries()) slices[index].push(await run(SLICE_MS, offset));
      offset += 7919;
    }
    return cases.map(({ name }, index) => report(summarize(name, slices[index])));
  };
  const joseVerify = (t: string) => jwtVerify(t, joseKeys, { issuer: ISSUER, algorithms: ['RS256'] });
  const seq = (name: string, list: string[], verify: (token: string) => Promise<unknown> | unknown): Case => ({ name, run: (ms, offset) => sequentialSlice(list, verify, ms, offset) });
  const conc = (name: string, verify: (token: string) => Promise<unknown>): Case => ({ name, run: (ms, offset) => concurrentSlice(tokens, verify, ms, offset) });
  const oursFresh = (name: string, slice: typeof sequentialSlice | typeof concurrentSlice): Case => ({
    name,
    run: async (ms, offset) => {
      const verifier = await freshVerifier();
      return slice(tokens, (t: string) => verifier.verifyAccessToken(t), ms, offset);
    },
  });

  console.log(`verification: best of ${SLICES} interleaved slices of ${SLICE_MS} ms (distinct: a fresh verifier per slice, tokens never seen before):`);
  const [oursSeq, awsSeq, cryptoSeq] = await compare([
    oursFresh('nestjs-cognito-lowlevel, distinct, sequential', sequentialSlice),
    seq('aws-jwt-verify, distinct, sequential', tokens, (t) => aws.verify(t)),
    seq('node:crypto verify only, distinct, sequential', tokens, rawCrypto),
    seq('jose jwtVerify, distinct, sequential', tokens, joseVerify),
  ]);
  const [oursConc, awsConc] = await compare([
    oursFresh('nestjs-cognito-lowlevel, distinct, 1000 in flight', concurrentSlice),
    conc('aws-jwt-verify, distinct, 1000 in flight', (t) => aws.verify(t)),
    conc('jose jwtVerify, distinct, 1000 in flight', joseVerify),
  ]);
  const [oursRepeated, awsRepeated] = await compare([
    seq('nestjs-cognito-lowlevel, one repeated token', repeated, (t) => ours.verifyAccessToken(t)),
    seq('aws-jwt-verify, one repeated token', repeated, (t) => aws.verify(t)),
  ]);

  // ---- HTTP: the same app, a guarded and an unguarded route --------------------
  @Module({ imports: [CognitoModule.forRoot(options)], controllers: [BenchController], providers: [AllowAllGuard] })
  class BenchModule {}
  const app = await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: ['warn', 'error'] });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  const http = async (name: string, path: string, headers: Record<string, string>): Promise<Result> => {
    const outcome = await autocannon({ url: `${base}${path}`, connections: HTTP_CONNECTIONS, duration: HTTP_SECONDS, headers, workers: 1 });
    if (outcome.non2xx > 0 || outcome.errors > 0) throw new Error(`${name} ${path}: ${outcome.non2xx} non-2xx, ${outcome.errors} errors, status codes ${JSON.stringify(outcome.statusCodeStats)}`);
    return { name, opsPerSec: outcome.requests.average, p50: outcome.latency.p50, p99: outcome.latency.p99, rssMb: process.memoryUsage().rss / 2 ** 20 };
  };
  await http('warm-up', '/unguarded', { authorization: `Bearer ${tokens[2]}` });
  await http('warm-up', '/guarded', { authorization: `Bearer ${tokens[2]}` });
  console.log(`HTTP on 127.0.0.1, best of ${HTTP_ROUNDS} rounds of ${HTTP_SECONDS} s (Fastify; autocannon in a worker thread, ${HTTP_CONNECTIONS} connections):`);
  // Every route gets the same request, bearer token included: only the guard differs.
  const bearer = { authorization: `Bearer ${tokens[2]}` };
  const httpCases: [string, string, Record<string, string>][] = [
    ['GET /unguarded', '/unguarded', bearer],
    ['GET /noop-guard (a guard that allows all)', '/noop-guard', bearer],
    ['GET /guarded (one bearer access token)', '/guarded', bearer],
  ];
  const bestHttp: Result[] = [];
  for (let round = 0; round < HTTP_ROUNDS; round++) {
    for (const [index, [name, path, headers]] of httpCases.entries()) {
      const result = await http(name, path, headers);
      if (bestHttp[index] === undefined || result.opsPerSec > bestHttp[index].opsPerSec) bestHttp[index] = result;
    }
  }
  const [unguarded, , guarded] = bestHttp.map((result) => report(result, 'req/s'));
  await app.close();
  jwksServer.close();

  console.log('');
  console.log(`| ${'case'.padEnd(50)} | ${'ops/s'.padStart(9)} | ${'p50 ms'.padStart(8)} | ${'p99 ms'.padStart(8)} | ${'RSS MB'.padStart(7)} |`);
  console.log(`| ${'-'.repeat(50)} | ${'-'.repeat(9)} | ${'-'.repeat(8)} | ${'-'.repeat(8)} | ${'-'.repeat(7)} |`);
  for (const r of results) {
    console.log(`| ${r.name.padEnd(50)} | ${Math.round(r.opsPerSec).toString().padStart(9)} | ${r.p50.toFixed(3).padStart(8)} | ${r.p99.toFixed(3).padStart(8)} | ${r.rssMb.toFixed(0).padStart(7)} |`);
  }
  const ratio = (a: Result, b: Result) => (a.opsPerSec / b.opsPerSec).toFixed(2);
  console.log('');
  console.log(
    `ratios distinct_seq_vs_aws=${ratio(oursSeq, awsSeq)} distinct_conc_vs_aws=${ratio(oursConc, awsConc)} repeated_vs_aws=${ratio(oursRepeated, awsRepeated)} distinct_seq_vs_node_crypto=${ratio(oursSeq, cryptoSeq)} guarded_vs_unguarded_http=${ratio(guarded, unguarded)}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
