/**
 * Numeric fields in GNU's base-256 encoding (high bit of the first byte set): what GNU tar
 * and Python's tarfile write for an owner id past 2,097,151, an mtime before 1970 and a size
 * of 8 GiB or more, plus crafted headers (base-256 for small values, sizes past 2^53,
 * negative sizes). verify reads them as `tar tv` does, and refuses what tar refuses.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/archives';
import { tarHeader, withChecksum } from '../helpers/hostileArchives';
import { verifyBackup } from '../../src/core/verify/verify';

const dir = tempDir('ucp-verify-b256-');
after(() => rmSync(dir, { recursive: true, force: true }));

function tarTv(file: string): { status: number | null; lines: string[] } {
  const r = spawnSync('tar', ['--list', '--verbose', '--numeric-owner', '--utc', '-f', file], { encoding: 'utf8' });
  return { status: r.status, lines: r.stdout.trim().split('\n') };
}

const verify = (file: string) => verifyBackup({ kind: 'file', path: file }, { hashEntries: true });
const tarCheck = (r: Awaited<ReturnType<typeof verify>>) => r.checks.find((c) => c.id === 'tar')!;

test('GNU tar: owner ids past 2,097,151 and an mtime in 1900 (base-256, negative) read as tar tv shows them', async () => {
  const root = join(dir, 'gnu');
  mkdirSync(root);
  writeFileSync(join(root, 'f'), 'hi\n');
  const file = join(dir, 'gnu.tar');
  const r = spawnSync('tar', ['--format', 'gnu', '--owner', 'big:3000000', '--group', 'big:4000000', '--mtime', '@-2208988800', '-C', root, '-cf', file, 'f']);
  assert.equal(r.status, 0, String(r.stderr));
  assert.match(tarTv(file).lines[0], /^-rw-r--r-- 3000000\/4000000\s+3 1900-01-01 00:00 f$/);
  const e = (await verify(file)).entries[0];
  assert.deepEqual([e.uid, e.gid, e.mtime, e.size], [3000000, 4000000, '1900-01-01T00:00:00.000Z', 3]);
});

test('Python tarfile GNU_FORMAT: a 2^40 uid and an mtime of -10^9 (base-256) read exactly', async () => {
  const file = join(dir, 'py.tar');
  const py = `import io, tarfile, sys
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as t:
    ti = tarfile.TarInfo('./big-ids'); ti.uid = 2**40; ti.gid = 2**33 + 5; ti.mtime = -10**9; data = b'hello'; ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
    ti = tarfile.TarInfo('./next'); ti.size = 0; t.addfile(ti)`;
  const r = spawnSync('python3', ['-c', py, file]);
  assert.equal(r.status, 0, String(r.stderr));
  const report = await verify(file);
  assert.deepEqual(
    report.entries.map((e) => [e.name, e.uid, e.gid, e.mtime, e.size]),
    [
      ['./big-ids', 2 ** 40, 2 ** 33 + 5, new Date(-1e12).toISOString(), 5],
      ['./next', 0, 0, '1970-01-01T00:00:00.000Z', 0],
    ],
  );
  assert.ok(tarCheck(report).pass, tarCheck(report).reason);
});

/** A ustar header whose size field is base-256 with `bytes` as the 12-byte field. */
function base256Header(name: string, field: number[]): Buffer {
  const h = tarHeader(name, 0);
  Buffer.from(field).copy(h, 124);
  return withChecksum(h);
}

test('crafted: a small size in base-256 reads like its octal form, in step with the next member (GNU tar agrees)', async () => {
  const file = join(dir, 'small-b256.tar');
  const data = Buffer.alloc(1024, 0x61);
  const field = [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8]; // 1000
  writeFileSync(file, Buffer.concat([base256Header('./a', field), data, tarHeader('./b', 3), Buffer.from('xyz'.padEnd(512, '\0')), Buffer.alloc(1024)]));
  const tv = tarTv(file);
  assert.equal(tv.status, 0);
  assert.match(tv.lines[0], /\s1000 .* \.\/a$/);
  const report = await verify(file);
  assert.deepEqual(report.entries.map((e) => [e.name, e.size]), [['./a', 1000], ['./b', 3]]);
  assert.ok(tarCheck(report).pass, tarCheck(report).reason);
});

test('crafted: a 9 GiB base-256 size cut after 1 MiB is INVALID, the missing bytes counted exactly (never read)', async () => {
  const file = join(dir, 'cut-9g.tar');
  const size = 9 * 1024 ** 3;
  writeFileSync(file, Buffer.concat([tarHeader('./huge', size), Buffer.alloc(1 << 20)]));
  assert.equal(tarHeader('./huge', size)[124], 0x80, 'the helper wrote base-256');
  const report = await verify(file);
  assert.equal(report.verdict, 'INVALID');
  assert.equal(report.entries[0].size, size);
  assert.match(tarCheck(report).reason, new RegExp(`ends inside the data of "\\./huge" \\(${size - (1 << 20)} bytes missing\\)`));
});

test('crafted: sizes past 2^53 and negative sizes are INVALID "bad size", never a crash or a huge read', async () => {
  for (const [what, field] of [
    ['past 2^53', [0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['negative', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]],
  ] as const) {
    const file = join(dir, `bad-${what.replace(/\W/g, '')}.tar`);
    writeFileSync(file, Buffer.concat([base256Header('./x', [...field]), Buffer.alloc(2048)]));
    const report = await verify(file);
    assert.equal(report.verdict, 'INVALID', what);
    assert.match(tarCheck(report).reason, /bad size/, `${what}: ${tarCheck(report).reason}`);
  }
});
