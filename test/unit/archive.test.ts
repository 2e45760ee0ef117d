/**
 * The archive readers on their own: format detection from the first bytes, ASCII armor,
 * OpenPGP partial body lengths split anywhere, and the tar scanner on what GNU tar writes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { detectArchive } from '../../src/core/archive/detect';
import { dearmor } from '../../src/core/archive/armor';
import { ByteReader } from '../../src/core/archive/byteReader';
import { packetBody, readPacketHeader } from '../../src/core/archive/openpgpPackets';
import { TarScanner, type TarHeader } from '../../src/core/archive/tarScanner';
import { CorruptArchiveError } from '../../src/core/archive/errors';
import { gpgEncrypt, makeTar, tempDir } from '../helpers/archives';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const tar = makeTar(dir);

/** Feeds `data` in pieces of the given sizes (cycled), like a socket would. */
async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    yield data.subarray(at, at + n);
    at += n;
  }
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return Buffer.concat(out);
}

test('detection: tar, binary and armored OpenPGP, and what is neither', () => {
  assert.equal(detectArchive(readFileSync(tar).subarray(0, 512)).kind, 'tar');
  assert.equal(detectArchive(readFileSync(gpgEncrypt(dir, tar)).subarray(0, 512)).kind, 'openpgp-binary');
  assert.equal(detectArchive(readFileSync(gpgEncrypt(dir, tar, ['--armor'])).subarray(0, 512)).kind, 'openpgp-armored');
  assert.equal(detectArchive(Buffer.from('-----BEGIN PGP MESS')).kind, 'openpgp-armored'); // cut inside the BEGIN line
  assert.deepEqual(detectArchive(Buffer.alloc(0)), { kind: 'other', what: 'an empty file' });
  assert.equal(detectArchive(Buffer.from('PK\x03\x04rest', 'latin1')).what, 'a zip file');
  assert.match(detectArchive(Buffer.from([0x1f, 0x8b, 8, 0])).what ?? '', /gzip/);
  assert.equal(detectArchive(Buffer.from('hello world, just text\n')).kind, 'other');
});

test('armor: decodes to the binary gpg writes, in any piece sizes; a bad CRC or no END line is damage', async () => {
  const armored = readFileSync(gpgEncrypt(dir, tar, ['--armor']));
  const text = armored.toString('latin1');
  // gpg --dearmor is the reference decoder.
  const ref = spawnSync('gpg', ['--dearmor'], { input: armored }).stdout;
  for (const sizes of [[1], [7, 13], [65536]]) assert.ok((await collect(dearmor(pieces(armored, sizes)))).equals(ref), `sizes ${sizes}`);
  const crcLine = /\n=(....)\r?\n/.exec(text)!;
  const badCrc = text.replace(crcLine[0], `\n=${crcLine[1] === 'AAAA' ? 'BBBB' : 'AAAA'}\n`);
  await assert.rejects(collect(dearmor(pieces(Buffer.from(badCrc, 'latin1'), [4096]))), /CRC-24/);
  await assert.rejects(collect(dearmor(pieces(armored.subarray(0, armored.length - 30), [4096]))), (e: Error) => e instanceof CorruptArchiveError && /truncated/.test(e.message));
});

test('partial body lengths: joined correctly whatever the input piece sizes, trailing data left', async () => {
  // A literal packet (tag 11) of 3 partial chunks (512, 1024, 512) and a final 2-byte length, then a marker packet.
  const body = Buffer.from(Array.from({ length: 512 + 1024 + 512 + 300 }, (_, i) => i & 0xff));
  const packet = Buffer.concat([
    Buffer.from([0xc0 | 11, 0xe9]), body.subarray(0, 512),
    Buffer.from([0xea]), body.subarray(512, 1536),
    Buffer.from([0xe9]), body.subarray(1536, 2048),
    Buffer.from([192 + ((300 - 192) >> 8), (300 - 192) & 0xff]), body.subarray(2048),
    Buffer.from([0xca, 3, 0x50, 0x47, 0x50]), // marker packet "PGP"
  ]);
  for (const sizes of [[1], [3, 5], [511, 2], [100000]]) {
    for (const join of ['copy', 'reuse', 'pieces'] as const) {
      const r = new ByteReader(pieces(packet, sizes));
      const h = await readPacketHeader(r);
      assert.equal(h.tag, 11);
      const got: Buffer[] = [];
      for await (const b of packetBody(r, h, join)) got.push(Buffer.from(b)); // 'reuse' overwrites its buffer
      assert.ok(Buffer.concat(got).equals(body), `sizes ${sizes} join ${join}`);
      const next = await readPacketHeader(r);
      assert.equal(next.tag, 10);
      assert.equal((await r.readExact(3)).toString(), 'PGP');
    }
  }
});

test('tar scanner: GNU tar output in 1-byte pieces gives the same headers as in one piece', () => {
  const data = readFileSync(makeTar(dir, { format: 'pax', extra: { [`ucp-kv/${'n'.repeat(150)}`]: Buffer.alloc(1000, 7) } }));
  const scan = (sizes: number) => {
    const seen: TarHeader[] = [];
    let bytes = 0;
    const s = new TarScanner((h) => {
      seen.push(h);
      return { data: (c) => void (bytes += c.length), end: () => undefined };
    });
    for (let at = 0; at < data.length; at += sizes) s.write(data.subarray(at, at + sizes));
    s.end();
    return { seen, bytes, s };
  };
  const whole = scan(data.length);
  const bytewise = scan(1);
  assert.equal(whole.s.complete, true);
  assert.equal(whole.s.error, undefined);
  assert.deepEqual(bytewise.seen, whole.seen);
  assert.equal(bytewise.bytes, whole.bytes);
  assert.ok(whole.seen.some((h) => h.name === `./ucp-kv/${'n'.repeat(150)}` && h.size === 1000));
});

test('tar scanner: a bad header checksum is reported with its offset, and the rest is ignored', () => {
  const data = Buffer.from(readFileSync(tar));
  // The first entry is small (one data block): the second header is at 1024.
  data[1024 + 5] ^= 0xff;
  const s = new TarScanner(() => undefined);
  s.write(data);
  s.end();
  assert.equal(s.error, 'bad header checksum at offset 1024: the archive is damaged or not a tar');
  assert.equal(s.entries, 1);
  assert.equal(s.complete, false);
});
