/**
 * GNU sparse members, as GNU tar writes them with --sparse: old GNU 'S' headers (with map
 * extension blocks for more than four pieces) and pax sparse 0.0, 0.1 and 1.0. verify lists
 * each with the name and size `tar tv` shows (holes included), keeps its place in the
 * archive (the members after it list right), and reads only the bytes stored: a 64 GiB hole
 * is never expanded (the report's tar bytes are the archive's own size).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/archives';
import { verifyBackup } from '../../src/core/verify/verify';

const dir = tempDir('ucp-verify-sparse-');
after(() => rmSync(dir, { recursive: true, force: true }));

const GiB = 1024 ** 3;
const root = join(dir, 'root');
mkdirSync(root);
/** Twelve data pieces spread over 64 GiB of holes: more than the four an old GNU header holds. */
function sparseFile(name: string, size: number, pieces: number): void {
  const fd = openSync(join(root, name), 'w');
  for (let i = 0; i < pieces; i++) writeSync(fd, Buffer.from(`piece ${i} `.repeat(100)), 0, undefined, Math.floor((i * size) / pieces));
  ftruncateSync(fd, size);
  closeSync(fd);
}
sparseFile('holes.img', 64 * GiB, 12);
sparseFile('few.img', 3 * GiB + 17, 2);
const AFTER = 'a regular file after the sparse ones\n';
writeFileSync(join(root, 'after.txt'), AFTER);

/** `tar tv`'s size and name columns. */
function tarTv(file: string): { size: number; name: string }[] {
  const r = spawnSync('tar', ['--list', '--verbose', '--numeric-owner', '-f', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => {
      const m = /^\S+ \S+\s+(\d+) \S+ \S+ (.*)$/.exec(l);
      assert.ok(m, l);
      return { size: Number(m[1]), name: m[2] };
    });
}

const FORMATS: [string, string[]][] = [
  ['gnu (old GNU sparse headers)', ['--format', 'gnu']],
  ['oldgnu', ['--format', 'oldgnu']],
  ['posix, sparse 0.0', ['--format', 'posix', '--sparse-version', '0.0']],
  ['posix, sparse 0.1', ['--format', 'posix', '--sparse-version', '0.1']],
  ['posix, sparse 1.0', ['--format', 'posix', '--sparse-version', '1.0']],
];

for (const [what, args] of FORMATS) {
  test(`GNU tar --sparse ${what}: names and sizes as tar tv shows them, holes never read`, async () => {
    const file = join(dir, `${what.replace(/\W+/g, '-')}.tar`);
    const r = spawnSync('tar', [...args, '--sparse', '-C', root, '-cf', file, 'holes.img', 'few.img', 'after.txt']);
    assert.equal(r.status, 0, String(r.stderr));
    const size = statSync(file).size;
    assert.ok(size < 1 << 20, `the archive itself is small (${size} bytes)`);
    const report = await verifyBackup({ kind: 'file', path: file }, { hashEntries: true });
    assert.deepEqual(
      report.entries.map((e) => ({ size: e.size, name: e.name })),
      tarTv(file),
    );
    assert.equal(report.entries[0].size, 64 * GiB);
    assert.equal(report.entries[0].type, 'sparse');
    assert.equal(report.entries[2].sha256, createHash('sha256').update(AFTER).digest('hex'), 'the member after is read in step');
    const tar = report.checks.find((c) => c.id === 'tar')!;
    assert.ok(tar.pass, tar.reason);
    assert.equal(report.tarBytes, size, 'only the stored bytes were read');
  });
}
