/**
 * The tree refreshes while a backup streams: many Docker API calls at once, and a long
 * stream, share one SSH connection to the manager.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadTestbed, tempDir, testNode } from '../helpers/testbed';
import { NodeSession } from '../../src/core/ssh/nodeSession';

const tb = loadTestbed();
const m1 = tb.managers[0];
const s = new NodeSession(testNode(m1, tempDir('ucp-sshcfg-'), {}, tb));
after(() => s.close());

test('50 concurrent API calls while an image streams, all over one SSH connection', async () => {
  const docker = await s.docker();
  const images = await docker.listImages();
  const biggest = images.sort((a, b) => b.Size - a.Size)[0];
  const streaming = (async () => {
    let bytes = 0;
    for await (const chunk of (await docker.getImage(biggest.Id).get()) as AsyncIterable<Buffer>) bytes += chunk.length;
    return bytes;
  })();
  const calls = await Promise.all(
    Array.from({ length: 50 }, (_, i) => (i % 2 ? docker.ping().then(() => 'ping') : docker.listContainers({ all: true }).then((c) => c.length))),
  );
  const expected = (await docker.listContainers({ all: true })).length;
  assert.equal(calls.filter((c) => c === 'ping').length, 25);
  assert.ok(calls.filter((c) => c !== 'ping').every((n) => n === expected));
  const streamed = await streaming;
  assert.ok(streamed >= biggest.Size * 0.5, `image tarball streamed (${streamed} bytes for a ${biggest.Size}-byte image)`);
  assert.equal(s.handshakes, 1);
});
