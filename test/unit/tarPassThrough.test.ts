/**
 * The backup tar is written and the volume tars are read without tar-stream's streams now
 * (archiveWriter.ts, volumeEntries.ts TarReader): the bytes must stay exactly what tar-stream
 * produced, and reading must see what tar-stream saw, including PAX and GNU long names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, linkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { ArchiveWriter, type EntryHeader } from '../../src/core/engine/archiveWriter';
import { copyArchive } from '../../src/core/engine/volumeEntries';

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

const mtime = new Date(1_700_000_000_000);
const CASES: { header: EntryHeader; data?: Buffer }[] = [
  { header: { name: './ucp-client-root-ca/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime } },
  { header: { name: './ucp-client-root-ca/cert.pem', mode: 0o644, uid: 0, gid: 0, mtime, uname: 'root', gname: 'root' }, data: randomBytes(1234) },
  { header: { name: './x/empty', mode: 0o600, uid: 65534, gid: 65534, uname: 'nobody', gname: 'nobody', mtime }, data: Buffer.alloc(0) },
  { header: { name: './x/exact512', mode: 0, uid: 1, gid: 2, mtime }, data: randomBytes(512) },
  { header: { name: `./x/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(90)}`, mode: 0o640, uid: 3_000_000, gid: 70_000, mtime }, data: randomBytes(70_000) },
  { header: { name: `./x/${'z'.repeat(160)}`, mode: 0o644, uid: 0, gid: 0, mtime }, data: randomBytes(3) },
  { header: { name: './x/ünïcödé-名前.txt', mode: 0o644, uid: 0, gid: 0, mtime }, data: randomBytes(513) },
  { header: { name: './x/link', type: 'symlink', linkname: 'exact512', mode: 0o777, uid: 0, gid: 0, mtime } },
  { header: { name: './x/long-link', type: 'symlink', linkname: '/' + 'q'.repeat(150), mode: 0o777, uid: 0, gid: 0, mtime } },
  { header: { name: './x/hard', type: 'link', linkname: './x/exact512', mode: 0o644, uid: 0, gid: 0, mtime } },
  { header: { name: './x/fifo', type: 'fifo', mode: 0o644, uid: 0, gid: 0, mtime } },
];

test('ArchiveWriter writes the same bytes as tar-stream pack did, and hashes every file', async () => {
  const ours = new ArchiveWriter();
  const theirs = tar.pack();
  const both = Promise.all([collect(ours.pack), collect(theirs as unknown as AsyncIterable<Buffer>)]);
  for (const c of CASES) {
    if (c.data) {
      // Fed in uneven pieces through the streaming path, as volumes are.
      const pieces = [c.data.subarray(0, 7), c.data.subarray(7, 600), c.data.subarray(600)].filter((p) => p.length);
      await ours.addStream({ ...c.header, type: 'file' }, c.data.length, Readable.from(pieces));
      await new Promise<void>((res, rej) => theirs.entry({ ...c.header, type: 'file', size: c.data!.length } as tar.Header, c.data!, (e) => (e ? rej(e) : res())));
    } else {
      await ours.addEmpty(c.header);
      await new Promise<void>((res, rej) => theirs.entry({ ...c.header, size: 0 } as tar.Header, (e) => (e ? rej(e) : res())));
    }
  }
  ours.finalize();
  theirs.finalize();
  const [a, b] = await both;
  assert.equal(a.length, b.length);
  assert.ok(a.equals(b), 'the tar bytes differ from tar-stream');
  for (const c of CASES.filter((x) => x.data)) {
    const e = ours.entries.find((x) => x.name === c.header.name);
    assert.equal(e?.sha256, createHash('sha256').update(c.data!).digest('hex'), c.header.name);
    assert.equal(e?.size, c.data!.length);
  }
});

test('a GNU tar of odd files is re-rooted exactly as the tar-stream reader did (PAX, long names, links)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tarpass-'));
  try {
    const root = join(dir, 'vol');
    const deep = join(root, 'a'.repeat(60), 'b'.repeat(60));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'c'.repeat(120)), randomBytes(70_000));
    writeFileSync(join(root, 'ünïcödé.txt'), randomBytes(513));
    writeFileSync(join(root, 'exact512'), randomBytes(512));
    writeFileSync(join(root, 'empty'), '');
    writeFileSync(join(root, 'mode0'), 'm');
    chmodSync(join(root, 'mode0'), 0);
    symlinkSync('/' + 'q'.repeat(150), join(root, 'long-link'));
    linkSync(join(root, 'exact512'), join(root, 'hard'));
    for (const format of ['posix', 'gnu']) {
      const r = spawnSync('tar', ['-C', root, `--format=${format}`, '-cf', '-', '.'], { maxBuffer: 64 << 20 });
      assert.equal(r.status, 0, String(r.stderr));
      const source = r.stdout as Buffer;
      // The old way: tar-stream extract → tar-stream pack, as copyArchive did before.
      const expected = await oldCopy(source, 'vol');
      // Ours, with the source cut at awkward places.
      const w = new ArchiveWriter();
      const out = collect(w.pack);
      const cuts = [1, 511, 513, 1024, 4000, 70_001].filter((n) => n < source.length);
      const count = await copyArchive(Readable.from(slices(source, cuts)), 'vol', w);
      w.finalize();
      const got = await out;
      assert.ok(count > 8, `${format}: ${count} entries`);
      assert.ok(got.equals(expected), `${format}: re-rooted tar differs from the tar-stream path`);
      const listed = spawnSync('tar', ['-tvf', '-'], { input: got }).stdout.toString();
      assert.match(listed, /\.\/vol\/aaaa+\/bbbb+\/cccc+/);
      assert.match(listed, /hard link to \.\/vol\/exact512|\.\/vol\/hard link to \.\/vol\/exact512/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function slices(b: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, b.length]) {
    out.push(b.subarray(at, c));
    at = c;
  }
  return out;
}

/** What copyArchive did with tar-stream until now (kept here as the reference). */
async function oldCopy(source: Buffer, volume: string): Promise<Buffer> {
  const { reroot } = await import('../../src/core/engine/volumeEntries');
  const extract = tar.extract();
  const pack = tar.pack();
  const out = collect(pack as unknown as AsyncIterable<Buffer>);
  Readable.from([source]).pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const h = entry.header;
    const name = reroot(volume, h.name);
    const header = {
      name: h.type === 'directory' && !name.endsWith('/') ? name + '/' : name,
      mode: h.mode, uid: h.uid, gid: h.gid, uname: h.uname, gname: h.gname, mtime: h.mtime, type: h.type,
      linkname: h.type === 'link' && h.linkname ? reroot(volume, h.linkname) : h.linkname,
    };
    if (h.type === 'file' || h.type === 'contiguous-file') {
      const data = await collect(entry as unknown as AsyncIterable<Buffer>);
      await new Promise<void>((res, rej) => pack.entry({ ...header, type: 'file', size: h.size } as tar.Header, data, (e) => (e ? rej(e) : res())));
    } else {
      entry.resume();
      await new Promise<void>((res, rej) => pack.entry({ ...header, size: 0 } as tar.Header, (e) => (e ? rej(e) : res())));
    }
  }
  pack.finalize();
  return out;
}
