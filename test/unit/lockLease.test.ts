/**
 * The lock's lease verdicts (lease.ts): expiry is judged on the swarm's clock only, so a
 * holder whose clock is far off is neither expired early nor kept alive; a gone process on
 * this machine makes a lock stale (break-lock) but never expired (no takeover by itself).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { judgeLease, leaseOf } from '../../src/core/lock/lease';

const now = Date.parse('2026-12-02T12:00:00Z');
const fresh = { heartbeat: new Date(now).toISOString(), heartbeatMs: 10_000, leaseMs: 60_000, host: 'laptop', pid: 1 };

test('a lock renewed within its lease holds; one not renewed for longer has expired', () => {
  assert.deepEqual(judgeLease(fresh, 59_000, now), { expired: false, stale: false });
  const v = judgeLease(fresh, 61_000, now);
  assert.equal(v.expired, true);
  assert.equal(v.stale, true);
  assert.equal(v.reason, 'its lease expired: not renewed for 61 s (lease 60 s)');
});

test("the holder's clock cannot expire a lock: an old heartbeat label within the swarm lease is only stale", () => {
  const skewed = { ...fresh, heartbeat: new Date(now - 3_600_000).toISOString() };
  const v = judgeLease(skewed, 5_000, now);
  assert.equal(v.expired, false);
  assert.equal(v.stale, true);
  assert.match(v.reason ?? '', /^no heartbeat since /);
});

test('a gone process on this machine is stale at once, not expired', () => {
  const gone = { ...fresh, host: hostname(), pid: 2 ** 22 + 12345 };
  assert.deepEqual(judgeLease(gone, 1_000, now), { expired: false, stale: true, reason: `process ${gone.pid} on ${hostname()} is gone` });
});

test('the lease is the longest of ours, the holder’s and six of its beats', () => {
  assert.equal(leaseOf({ ...fresh, leaseMs: 1_000, heartbeatMs: 200 }), 60_000);
  assert.equal(leaseOf({ ...fresh, leaseMs: 120_000 }), 120_000);
  assert.equal(leaseOf({ ...fresh, leaseMs: undefined, heartbeatMs: 30_000 }), 180_000);
  // Unknown swarm time (an old daemon that says nothing): never expired, judged on the label.
  assert.equal(judgeLease(fresh, undefined, now).expired, false);
});
