/**
 * The archive's output hash (the record's size and SHA-256) is the same whether SHA-256 runs
 * inline or on a second thread (outputPipeline.ts hashing(…, true)), over many ring wraps and
 * uneven chunks, and the bytes pass through unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hashing } from '../../src/core/engine/outputPipeline';

test('hashing on a thread gives the inline SHA-256 and passes every byte through', async () => {
  const data = randomBytes(7 * 1024 * 1024 + 13);
  const pieces: Buffer[] = [];
  for (let at = 0, step = 1000; at < data.length; at += step, step = (step * 7) % 300_001 + 1) pieces.push(data.subarray(at, at + step));
  for (const thread of [false, true]) {
    const out: Buffer[] = [];
    const h = hashing(undefined, thread);
    await pipeline(Readable.from(pieces), h, new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
    const r = await h.result();
    assert.deepEqual(r, { size: data.length, sha256: createHash('sha256').update(data).digest('hex') }, `thread ${thread}`);
    assert.equal(Buffer.compare(Buffer.concat(out), data), 0);
  }
});
