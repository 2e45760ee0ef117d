/**
 * `ucp-backup drill FILE --local`, run as an admin or cron would: the check table with
 * PASS/WARN/FAIL and reasons (or --json), exit 0 without FAIL and 1 with one, and one clear
 * sentence — never a stack trace — when the drill cannot run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { gpgEncrypt, makeTar, passFile, tempDir, type TreeOptions } from '../helpers/archives';
import { realEtcdSnapshot, type RealSnapshot } from '../helpers/etcd';
import { makePki, type ServerVariant } from '../helpers/pki';
import { AUTH_STORE_ENTRY, authStoreTarGz } from '../helpers/authStore';

let dir: string;
let snap: RealSnapshot;
let pass: string;
const trees = new Map<string, string>();

/** An encrypted backup with a real snapshot and real certificates (server certificate `variant`). */
function backup(variant: ServerVariant, o: TreeOptions = {}): string {
  const p = join(dir, `pki-${variant}-${trees.size}`);
  mkdirSync(p);
  const file = gpgEncrypt(dir, makeTar(dir, { etcdSnapshot: snap.data, replace: { ...makePki(p, variant), [AUTH_STORE_ENTRY]: authStoreTarGz(dir, 'volume-copy') }, ...o }));
  trees.set(variant, file);
  return file;
}

before(async () => {
  dir = tempDir('ucp-drillcli-');
  snap = await realEtcdSnapshot();
  pass = passFile(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a backup whose only finding is a certificate expiring in 10 days: exit 0, the table shows WARN with the reason', async () => {
  const r = await runCli(['drill', backup('expiring'), '--local', '--passphrase-file', pass]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /: drill WARN\n/);
  assert.match(r.stdout, /PASS etcd snapshot restores: snapshot status: hash \d+, revision \d+/);
  assert.match(r.stdout, /PASS Restored etcd member answers: etcd [\d.]+ on http:\/\/127\.0\.0\.1:\d+ answered at revision \d+, 6 keys/);
  assert.match(r.stdout, /keys per prefix: \/registry 3, \/docker 2, ucp-config 1/);
  assert.match(r.stdout, /WARN Server certificate ucp-controller-server-certs: key matches the certificate; chains to ucp-cluster-root-ca; expires in 10 days/);
  assert.match(r.stdout, /PASS Auth store \(auth-store\.tar\.gz\) opens: \d+ entries: a file-level copy of the ucp-auth-store-data volume/);
});

test('an expired server certificate and a N+1 target: exit 1, --json names the failing rows', async () => {
  const r = await runCli(['drill', backup('expired'), '--local', '--passphrase-file', pass, '--target-version', '3.3.0', '--json']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.verdict, 'FAIL');
  const failed = report.checks.filter((c: { status: string }) => c.status === 'FAIL').map((c: { title: string }) => c.title);
  assert.ok(failed.includes('Server certificate ucp-controller-server-certs'), failed.join(', '));
  assert.ok(failed.includes('Restorable on UCP 3.3.0'), failed.join(', '));
  assert.equal(report.etcd.keys, 6);
});

test('without a manager (--config) or --local, or without etcd on PATH: exit 2 with one sentence saying what to do, no stack trace', async () => {
  const file = trees.get('expiring') ?? backup('expiring');
  const noLocal = await runCli(['drill', file, '--passphrase-file', pass]);
  assert.equal(noLocal.code, 2);
  assert.match(noLocal.stderr, /^ucp-backup: The restore drill needs a manager to restore the etcd snapshot on, or --local\. Give --config FILE \[--cluster NAME\] \[--node NODE\], or --local/);
  const noEtcd = await runCli(['drill', file, '--local', '--passphrase-file', pass], { env: { PATH: dir } });
  assert.equal(noEtcd.code, 2, noEtcd.stderr);
  assert.match(noEtcd.stderr, /^ucp-backup: --local needs etcd and etcdutl \(or etcdctl\) on PATH.*apt-get install etcd-server etcd-client/);
  for (const r of [noLocal, noEtcd]) assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a wrong passphrase is a FAIL row (exit 1), not a crash', async () => {
  const file = trees.get('expiring') ?? backup('expiring');
  const r = await runCli(['drill', file, '--local', '--passphrase-file', passFile(dir, 'wrong passphrase')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /FAIL Archive opens and verifies: The passphrase does not decrypt this backup/);
  assert.equal(r.stderr, '');
});
