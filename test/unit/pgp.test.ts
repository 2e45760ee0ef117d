import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { encryptStream } from '../../src/core/archive/pgp';

test('an encrypted stream opens with real gpg --decrypt and the passphrase', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgp-'));
  try {
    const plain = randomBytes(3 * 1024 * 1024 + 17);
    const passFile = join(dir, 'pass');
    writeFileSync(passFile, 'secret12chars\n');
    await pipeline(await encryptStream(Readable.from([plain.subarray(0, 1000), plain.subarray(1000)]), 'secret12chars'), createWriteStream(join(dir, 'x.gpg')));
    const r = spawnSync('gpg', ['--batch', '--homedir', dir, '--passphrase-file', passFile, '--decrypt', join(dir, 'x.gpg')], { maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(Buffer.compare(r.stdout, plain) === 0, 'gpg output differs from the plaintext');
    assert.match(r.stderr.toString(), /AES256/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
