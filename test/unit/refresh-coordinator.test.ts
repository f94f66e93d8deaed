// Direct tests of RefreshCoordinator: one refresh per refresh token at a time, its result
// remembered for 30 s, failures forgotten, and a bounded table.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { RefreshCoordinator } from '../../lib/session/refresh-coordinator.js';

const T0 = 1_800_000_000_000;

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets the coordinator's own then-callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function clock(t: TestContext, start = T0) {
  const now = { value: start };
  t.mock.method(Date, 'now', () => now.value);
  return now;
}

describe('RefreshCoordinator', () => {
  it('joins concurrent refreshes of one refresh token into one call', async () => {
    const coordinator = new RefreshCoordinator();
    const pending = deferred<string>();
    let calls = 0;
    const refresh = () => {
      calls++;
      return pending.promise;
    };
    const first = coordinator.run('rt-1', refresh);
    const second = coordinator.run('rt-1', refresh);
    assert.equal(first, second);
    assert.equal(calls, 1);
    pending.resolve('tokens');
    assert.equal(await second, 'tokens');
  });

  it('keeps refreshes of different refresh tokens apart', async () => {
    const coordinator = new RefreshCoordinator();
    assert.equal(await coordinator.run('rt-1', async () => 'one'), 'one');
    assert.equal(await coordinator.run('rt-2', async () => 'two'), 'two');
  });

  it('reuses a finished refresh for 30 s after it ends, then refreshes again', async (t) => {
    const now = clock(t);
    const coordinator = new RefreshCoordinator();
    const pending = deferred<string>();
    coordinator.run('rt-1', () => pending.promise);
    now.value = T0 + 120_000; // a slow refresh: still joined while in flight
    assert.equal(await Promise.race([coordinator.run('rt-1', async () => 'second'), settle().then(() => 'waiting')]), 'waiting');
    pending.resolve('first');
    await settle();
    now.value = T0 + 120_000 + 29_999;
    assert.equal(await coordinator.run('rt-1', async () => 'again'), 'first');
    now.value = T0 + 120_000 + 30_000;
    assert.equal(await coordinator.run('rt-1', async () => 'again'), 'again');
  });

  it('forgets a failed refresh at once, so the next request tries again', async () => {
    const coordinator = new RefreshCoordinator();
    const failed = coordinator.run('rt-1', async () => {
      throw new Error('down');
    });
    await assert.rejects(failed, { message: 'down' });
    await settle();
    assert.equal(await coordinator.run('rt-1', async () => 'recovered'), 'recovered');
  });

  it('hands a failure to every request that joined it', async () => {
    const coordinator = new RefreshCoordinator();
    const pending = deferred<string>();
    const first = coordinator.run('rt-1', () => pending.promise);
    const second = coordinator.run('rt-1', async () => 'never');
    pending.reject(new Error('down'));
    await assert.rejects(first, { message: 'down' });
    await assert.rejects(second, { message: 'down' });
  });

  it('holds at most 10,000 refreshes in flight, forgetting the oldest first', async () => {
    const coordinator = new RefreshCoordinator();
    const calls = new Map<string, number>();
    const never = new Promise<string>(() => {});
    const refresh = (token: string) => () => {
      calls.set(token, (calls.get(token) ?? 0) + 1);
      return never;
    };
    for (let index = 0; index < 10_000; index++) coordinator.run(`rt-${index}`, refresh(`rt-${index}`));
    coordinator.run('rt-0', refresh('rt-0'));
    assert.equal(calls.get('rt-0'), 1, 'a full table still answers from it');
    coordinator.run('rt-new', refresh('rt-new'));
    coordinator.run('rt-0', refresh('rt-0'));
    assert.equal(calls.get('rt-0'), 2, 'the oldest was forgotten for the new one');
    coordinator.run('rt-2', refresh('rt-2'));
    assert.equal(calls.get('rt-2'), 1, 'one entry is forgotten per new refresh, no more');
    coordinator.run('rt-1', refresh('rt-1'));
    assert.equal(calls.get('rt-1'), 2, 'and the next oldest went for rt-0');
  });

  it('a forgotten refresh that fails later does not forget its successor', async () => {
    const coordinator = new RefreshCoordinator();
    const first = deferred<string>();
    const never = new Promise<string>(() => {});
    coordinator.run('rt-0', () => first.promise);
    for (let index = 1; index < 10_000; index++) coordinator.run(`rt-${index}`, () => never);
    coordinator.run('rt-x', () => never); // forgets rt-0
    let calls = 0;
    const successor = () => {
      calls++;
      return never;
    };
    coordinator.run('rt-0', successor); // forgets rt-1, holds rt-0 again
    first.reject(new Error('late failure'));
    await settle();
    coordinator.run('rt-0', successor);
    assert.equal(calls, 1, 'the successor is still joined');
  });

  it('makes room by dropping finished refreshes first', async (t) => {
    const now = clock(t);
    const coordinator = new RefreshCoordinator();
    const never = new Promise<string>(() => {});
    let calls = 0;
    const counted = () => {
      calls++;
      return never;
    };
    coordinator.run('rt-0', counted); // in flight, the oldest
    for (let index = 1; index < 10_000; index++) await coordinator.run(`rt-${index}`, async () => 'done');
    await settle();
    now.value = T0 + 30_000; // every finished refresh has expired
    coordinator.run('rt-new', () => never);
    coordinator.run('rt-0', counted);
    assert.equal(calls, 1, 'the refresh in flight was kept, the expired ones made room');
  });
});
