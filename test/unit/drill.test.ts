/**
 * The restore drill, as an admin runs it before trusting a backup: a real etcd snapshot is
 * restored and served by a throwaway local etcd, real openssl certificates are checked, the
 * auth store opened, the version compared — and nothing is left running or on disk.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drill } from '../../src/core/drill/drill';
import type { DrillReport } from '../../src/core/drill/report';
import { EtcdNotInstalledError } from '../../src/core/drill/etcdLocal';
import { CancelledError } from '../../src/core/errors';
import { BACKUP_STAMP, gpgEncrypt, makeTar, PASSPHRASE, tempDir, type TreeOptions } from '../helpers/archives';
import { realEtcdSnapshot, type RealSnapshot } from '../helpers/etcd';
import { makePki } from '../helpers/pki';
import { authStoreTarGz } from '../helpers/authStore';

let dir: string;
let snap: RealSnapshot;
let pki: Record<string, string>;
let volumeCopy: Buffer;

function tree(extra: TreeOptions = {}): TreeOptions {
  return {
    etcdSnapshot: snap.data,
    manifest: true,
    manifestFields: { etcd: { revision: snap.status.revision, totalKey: snap.status.totalKey, totalSize: snap.status.totalSize, hash: snap.status.hash, keys: 6 }, authStore: { method: 'volume-copy', paused: true, pausedMs: 1200 } },
    ...extra,
    replace: { ...pki, [`ucp-backup/${BACKUP_STAMP}/auth-store.tar.gz`]: volumeCopy, ...extra.replace },
  };
}

const row = (r: DrillReport, id: string) => r.checks.filter((c) => c.id === id);
/** This process's drill dirs (named with its pid): other processes on the machine may be drilling too. */
const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`ucp-drill-${process.pid}-`));
/** Processes whose command line names one of our drill temp dirs: a member left running. */
function drillProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(`ucp-drill-${process.pid}-`)) out.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

before(async () => {
  dir = tempDir('ucp-drilltest-');
  snap = await realEtcdSnapshot();
  pki = makePki(join(dir, (mkdirSync(join(dir, 'pki')), 'pki')));
  volumeCopy = authStoreTarGz(dir, 'volume-copy');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('restore drill with a local etcd', () => {
  test('a good encrypted built-in backup passes: the snapshot restores, the member answers with its keys per prefix, figures equal the manifest', async () => {
    const before = leftovers();
    const file = gpgEncrypt(dir, makeTar(dir, tree()));
    const r = await drill(file, { passphrase: PASSPHRASE, local: true, targetVersion: '3.2.4' });
    assert.equal(r.verdict, 'PASS', JSON.stringify(r.checks, null, 2));
    assert.equal(r.etcd?.revision, snap.status.revision);
    assert.equal(r.etcd?.totalKey, snap.status.totalKey);
    assert.equal(r.etcd?.hash, snap.status.hash);
    assert.equal(r.etcd?.memberRevision, snap.status.revision);
    assert.equal(r.etcd?.keys, 6);
    assert.deepEqual(r.etcd?.prefixes, [{ prefix: '/docker', keys: 2 }, { prefix: '/registry', keys: 3 }, { prefix: 'ucp-config', keys: 1 }].sort((a, b) => b.keys - a.keys));
    assert.equal(row(r, 'etcdMember')[0].status, 'PASS');
    assert.match(row(r, 'etcdManifest')[0].reason, /equal the manifest/);
    assert.deepEqual(row(r, 'certificate').map((c) => [c.title, c.status]), [['CA ucp-client-root-ca', 'PASS'], ['CA ucp-cluster-root-ca', 'PASS'], ['Server certificate ucp-controller-server-certs', 'PASS']]);
    assert.match(row(r, 'certificate')[2].reason, /key matches the certificate; chains to ucp-cluster-root-ca; valid \d+ more days/);
    assert.equal(r.authStore?.kind, 'volume-copy');
    assert.match(row(r, 'authStore')[0].reason, /file-level copy of the ucp-auth-store-data volume.*paused for 1\.2 s/);
    assert.deepEqual(leftovers(), before, 'the temp dir is removed');
    assert.deepEqual(drillProcesses(), [], 'no etcd member left running');
  });

  test('a snapshot other than the one the backup recorded (another revision) is FAIL', async () => {
    const t = tree();
    t.manifestFields = { etcd: { revision: snap.status.revision + 1, totalKey: snap.status.totalKey } };
    const r = await drill(makeTar(dir, t), { local: true });
    assert.equal(r.verdict, 'FAIL');
    const c = row(r, 'etcdManifest')[0];
    assert.equal(c.status, 'FAIL');
    assert.match(c.reason, new RegExp(`revision ${snap.status.revision}, recorded ${snap.status.revision + 1}`));
  });

  test('keys the live store held at the snapshot\'s revision (the built-in manifest) that the restored member does not serve: FAIL', async () => {
    const good = await drill(makeTar(dir, tree()), { local: true });
    assert.match(row(good, 'etcdManifest')[0].reason, /and the 6 keys the live store held equal the manifest's record/);
    const t = tree();
    t.manifestFields = { etcd: { ...(t.manifestFields!.etcd as object), keys: 7 } };
    const r = await drill(makeTar(dir, t), { local: true });
    const c = row(r, 'etcdManifest')[0];
    assert.equal(c.status, 'FAIL');
    assert.match(c.reason, new RegExp(`the restored member serves 6 keys; the live store held 7 at revision ${snap.status.revision}`));
    assert.equal(r.verdict, 'FAIL');
  });

  test('an archive without the recorded figures (official engine, other tools) shows them without comparing', async () => {
    const r = await drill(makeTar(dir, tree({ manifest: false })), { local: true });
    const c = row(r, 'etcdManifest')[0];
    assert.equal(c.status, 'PASS');
    assert.match(c.reason, new RegExp(`records no revision.*revision ${snap.status.revision}, ${snap.status.totalKey} total keys, not compared`));
    assert.equal(r.etcd?.keys, 6);
  });

  test('a snapshot whose pages are damaged (tar and OpenPGP intact) does not restore: FAIL on the etcd row, nothing left behind', async () => {
    const damaged = Buffer.from(snap.data);
    for (let i = 8192; i < 8192 + 64; i++) damaged[i] ^= 0xff;
    const file = gpgEncrypt(dir, makeTar(dir, tree({ etcdSnapshot: damaged })));
    const r = await drill(file, { passphrase: PASSPHRASE, local: true });
    assert.equal(r.verdict, 'FAIL');
    const c = row(r, 'etcdRestore')[0];
    assert.equal(c.status, 'FAIL');
    assert.match(c.reason, /SHA-256 etcd appended at `snapshot save` does not match the pages/);
    assert.deepEqual(drillProcesses(), []);
  });

  test('damaged pages with a matching appended hash pass verify but not the drill: etcd cannot read the snapshot', async () => {
    const db = Buffer.from(snap.data.subarray(0, snap.data.length - 32));
    // Every page header after the two meta pages (bbolt pages of 4096 bytes).
    for (let page = 2; page * 4096 < db.length; page++) for (let i = 0; i < 16; i++) db[page * 4096 + i] ^= 0xff;
    const resealed = Buffer.concat([db, createHash('sha256').update(db).digest()]);
    const r = await drill(makeTar(dir, tree({ etcdSnapshot: resealed, manifest: false })), { local: true });
    assert.equal(row(r, 'archive')[0].status, 'PASS', 'verify alone finds nothing wrong');
    const c = row(r, 'etcdRestore')[0];
    assert.equal(c.status, 'FAIL');
    assert.match(c.reason, /etcd crashed reading it \(panic: .*\): the snapshot's pages are damaged/);
    assert.equal(r.verdict, 'FAIL');
  });

  test('a drill cancelled at any point stops its etcd member and removes its temp dir', async () => {
    const file = makeTar(dir, tree());
    const before = leftovers();
    let cancelled = 0;
    for (const ms of [30, 120, 250, 400, 600]) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), ms);
      await drill(file, { local: true, signal: ac.signal }).then(
        () => undefined,
        (err: Error) => {
          assert.ok(err instanceof CancelledError, `${ms} ms: ${err}`);
          cancelled++;
        },
      );
      clearTimeout(timer);
      assert.deepEqual(drillProcesses(), [], `${ms} ms: no etcd member left running`);
      assert.deepEqual(leftovers(), before, `${ms} ms: the temp dir is removed`);
    }
    assert.ok(cancelled > 0, 'at least one run was cancelled midway');
  });

  test('a wrong passphrase is a FAIL row with the reason, not an exception', async () => {
    const file = gpgEncrypt(dir, makeTar(dir, tree()));
    const r = await drill(file, { passphrase: 'not the one', local: true });
    assert.equal(r.verdict, 'FAIL');
    assert.deepEqual(r.checks.map((c) => [c.id, c.status]), [['archive', 'FAIL']]);
    assert.match(r.checks[0].reason, /passphrase does not decrypt/);
  });

  test('an expired server certificate is FAIL; one expiring in 10 days is WARN; another key is FAIL', async () => {
    for (const [variant, status, reason] of [['expired', 'FAIL', /expired on/], ['expiring', 'WARN', /expires in 10 days/], ['wrongKey', 'FAIL', /key\.pem does not match the certificate/], ['foreignCa', 'FAIL', /does not chain to a CA the archive holds .*issued by CN=Someone Else CA/]] as const) {
      const p = join(dir, `pki-${variant}`);
      mkdirSync(p);
      const r = await drill(makeTar(dir, tree({ replace: makePki(p, variant) })), { local: true });
      const c = row(r, 'certificate').find((x) => x.title.startsWith('Server'))!;
      assert.equal(c.status, status, `${variant}: ${c.reason}`);
      assert.match(c.reason, reason);
      assert.equal(r.verdict, status);
    }
  });

  test('a RethinkDB dump is told apart from a volume copy; a damaged auth-store.tar.gz is FAIL', async () => {
    const dump = await drill(makeTar(dir, tree({ replace: { [`ucp-backup/${BACKUP_STAMP}/auth-store.tar.gz`]: authStoreTarGz(dir, 'dump') } })), { local: true });
    assert.equal(dump.authStore?.kind, 'rethinkdb-dump');
    assert.match(row(dump, 'authStore')[0].reason, /a RethinkDB dump .*2 tables/);
    const bad = await drill(makeTar(dir, tree({ replace: { [`ucp-backup/${BACKUP_STAMP}/auth-store.tar.gz`]: 'not really gzip' } })), { local: true });
    assert.equal(row(bad, 'authStore')[0].status, 'FAIL');
    assert.match(row(bad, 'authStore')[0].reason, /not a readable gzip/);
  });

  test('a backup of 3.2.4 for a 3.3 cluster is FAIL (spec: N is not restored on N+1); another patch is WARN', async () => {
    const file = makeTar(dir, tree());
    const next = await drill(file, { local: true, targetVersion: '3.3.0' });
    assert.equal(row(next, 'version')[0].status, 'FAIL');
    assert.match(row(next, 'version')[0].reason, /not restored on N\+1/);
    const patch = await drill(file, { local: true, targetVersion: '3.2.6' });
    assert.equal(row(patch, 'version')[0].status, 'WARN');
    assert.equal(patch.verdict, 'WARN');
  });

  test('without etcd on PATH the drill says what to install before reading the archive', async () => {
    const path = process.env.PATH;
    process.env.PATH = dir;
    try {
      await assert.rejects(drill(join(dir, 'missing.tar'), { local: true }), (err: Error) => err instanceof EtcdNotInstalledError && /apt-get install etcd-server etcd-client/.test(`${err.message} ${(err as EtcdNotInstalledError).hint}`));
    } finally {
      process.env.PATH = path;
    }
  });
});
