/**
 * The session pools Docker API channels (keep-alive): a long-running extension or a cron
 * job makes thousands of sequential calls over them, and reusing a channel must not pile up
 * listeners on it (Node warns with MaxListenersExceededWarning after 10).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadTestbed, tempDir, testNode } from '../helpers/testbed';
import { NodeSession } from '../../src/core/ssh/nodeSession';

const tb = loadTestbed();
const m1 = tb.managers[0];
const s = new NodeSession(testNode(m1, tempDir('ucp-sshcfg-'), {}, tb));
after(() => s.close());

test('50 sequential API calls reuse pooled channels without a MaxListenersExceededWarning', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const docker = await s.docker();
    for (let i = 0; i < 50; i++) assert.equal((await docker.ping()).toString(), 'OK');
    // 'warning' is emitted on the next tick after the listener was added.
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
  // The calls really went over pooled channels: one SSH handshake for all 50.
  assert.equal(s.handshakes, 1);
});
