import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench` is not part of CI (speed is compared in the benchmark, never asserted in a
 * test), so this runs it in miniature to keep it working: every case reports a rate and the
 * last line keeps the form the issue tracker quotes. The figures themselves mean nothing here.
 */
describe('npm run bench, in miniature', () => {
  it('measures every case and ends with the ratios line', async () => {
    const script = fileURLToPath(new URL('../bench/verifier.bench.js', import.meta.url));
    const sizes = {
      BENCH_TOKENS: '60',
      BENCH_ROUNDS: '2',
      BENCH_BLOCKS: '2',
      BENCH_BLOCK_OPS: '5',
      BENCH_IN_FLIGHT: '20',
      BENCH_HTTP_ROUNDS: '1',
      BENCH_HTTP_SECONDS: '0.3',
      BENCH_HTTP_WARMUP_SECONDS: '0.3',
      BENCH_HTTP_CONNECTIONS: '2',
      BENCH_MEMORY_TOKENS: '40',
      BENCH_MEMORY_SESSIONS: '10',
      BENCH_WS_SOCKETS: '4',
    };
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--expose-gc', script], { env: { ...process.env, ...sizes }, timeout: 120_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`the bench failed: ${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const rows = output.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| case') && !line.startsWith('| ---'));
    assert.equal(rows.length, 25, output);
    for (const row of rows) assert.ok(Number(row.split('|')[2]) > 0, `a rate for ${row}`);
    const last = output.trimEnd().split('\n').at(-1)!;
    const names = ['distinct_seq_vs_aws', 'distinct_conc_vs_aws', 'repeated_vs_aws', 'distinct_seq_vs_node_crypto', 'guarded_vs_unguarded_http', 'cookie_guarded_vs_unguarded_http', 'ws_guarded_vs_unguarded', 'revocation_guarded_vs_guarded'];
    assert.match(output, /^memory heap_growth_mb=-?\d+\.\d \(bound 64\)$/m);
    assert.match(output, /express_cookie_vs_bearer_http\s+\d+\.\d\d/);
    assert.match(output, /ws_connect_distinct_vs_anonymous\s+\d+\.\d\d/);
    assert.match(last, new RegExp(`^ratios ${names.map((name) => `${name}=\\d+\\.\\d\\d`).join(' ')}$`));
  });
});
