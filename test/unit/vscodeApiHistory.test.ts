/**
 * An API cluster's history in VS Code: UCP's records (GET /api/ucp/backups) merged with this
 * extension's by backup ID, the source on every row, UCP's zero time as "not completed", a size
 * UCP does not report, new and missing fields; the config of URL-only clusters; where the
 * password, the bundle key and the CA pins are kept; errors with VS Code's (not the CLI's) advice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnotherBackupRunningError, AuthenticationError, MalformedRequestError, ServerError, WaitCancelledError } from '../../src/core/api/errors';
import { checkBackupRecord, type CheckedBackupRecord } from '../../src/core/api/schema';
import { CaChangedError } from '../../src/core/api/tlsErrors';
import { isApiCluster, parseConfig, findNode } from '../../src/core/config';
import { ZERO_TIME, type BackupRecord } from '../../src/core/history/record';
import { describeApiError, isRejectedLogin } from '../../src/vscode/api/apiErrors';
import { mergedBackupPresentation } from '../../src/vscode/api/apiPresentation';
import { ApiSecrets, StateCaPinStore, ucpBundleKeyKey, ucpPasswordKey } from '../../src/vscode/api/apiSecrets';
import { mergedInfo, mergeHistories } from '../../src/vscode/api/mergedHistory';
import { apiClusterRow } from '../../src/vscode/api/apiBackupList';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ours = (over: Partial<BackupRecord>): BackupRecord => ({
  id: 'ssh-1', encrypted: true, fileName: 'ssh1.tar', logFileName: '', backupPath: '/var/backups/ucp', backupState: 'SUCCESS',
  nodeLocation: 'manager1', shortError: '', created_at: '2024-05-01T10:00:00Z', completed_at: '2024-05-01T10:01:00Z', size: 4096, location: 'host', ...over,
});
const api = (over: Record<string, unknown>): CheckedBackupRecord =>
  checkBackupRecord({ id: 'api-1', encrypted: true, fileName: 'api1.tar', logFileName: 'api1.log', backupPath: '/var/backups/ucp', backupState: 'SUCCESS', nodeLocation: 'manager2', shortError: '', created_at: '2024-05-01T11:00:00Z', completed_at: '2024-05-01T11:02:00Z', ...over });

test('merged history: one row per backup ID, newest first, each with its source', () => {
  const merged = mergeHistories(
    [ours({ id: 'ssh-1' }), ours({ id: 'shared', fileName: 'shared.tar', created_at: '2024-05-01T11:30:00Z', sha256: 'ab'.repeat(32) })],
    [api({ id: 'api-1' }), api({ id: 'shared', fileName: 'shared.tar', created_at: '2024-05-01T11:30:00Z' })],
  );
  assert.deepEqual(merged.map((m) => [m.record.id, m.source]), [['shared', 'both'], ['api-1', 'api'], ['ssh-1', 'ssh']]);
  // Ours is the base: it knows the size, the SHA-256 and where the file is.
  assert.equal(merged[0].record.size, 4096);
  assert.equal(merged[0].record.sha256, 'ab'.repeat(32));
  assert.equal(mergedInfo(merged[1].record)?.source, 'api');
});

test('merged history: a state that finished on either side wins over IN_PROGRESS, with its time and error', () => {
  const [m] = mergeHistories(
    [ours({ id: 'x', backupState: 'IN_PROGRESS', completed_at: ZERO_TIME })],
    [api({ id: 'x', backupState: 'FAILED', shortError: 'disk full', completed_at: '2024-05-01T11:05:00Z' })],
  );
  assert.equal(m.record.backupState, 'FAILED');
  assert.equal(m.record.shortError, 'disk full');
  assert.equal(m.record.completed_at, '2024-05-01T11:05:00Z');
  const [n] = mergeHistories([ours({ id: 'y' })], [api({ id: 'y', backupState: 'IN_PROGRESS', completed_at: ZERO_TIME })]);
  assert.equal(n.record.backupState, 'SUCCESS', 'a SUCCESS of ours is not undone by a stale IN_PROGRESS');
});

test("an API row: source shown, the zero time reads 'not completed', the size is said to be unknown", () => {
  const [m] = mergeHistories([], [api({ id: 'run-1', backupState: 'IN_PROGRESS', completed_at: ZERO_TIME })]);
  const p = mergedBackupPresentation(m.record, m, NOW);
  assert.match(p.description, /^in progress · .*1 hour ago · .*manager2 · UCP API$/);
  assert.match(p.tooltip, /^Completed: not completed$/m);
  assert.doesNotMatch(p.tooltip, /0001-01-01/);
  assert.match(p.tooltip, /^Size: not known \(UCP's API does not report it\)$/m);
  assert.match(p.tooltip, /^Source: UCP API \(GET \/api\/ucp\/backups\)$/m);
  assert.equal(p.icon, 'sync~spin');
  assert.equal(p.contextValue, 'backup.inProgress');
});

test('an API row: FAILED shows its shortError; fields a newer UCP adds and ones it leaves out are named', () => {
  const [m] = mergeHistories([], [checkBackupRecord({ id: 'f-1', encrypted: false, fileName: 'f.tar', backupPath: '/b', backupState: 'FAILED', nodeLocation: 'manager3', shortError: 'folder not owned by nobody', created_at: '2024-05-01T11:00:00Z', completed_at: '2024-05-01T11:00:05Z', clusterID: 'abc123' })]);
  const p = mergedBackupPresentation(m.record, m, NOW);
  assert.match(p.description, /^FAILED: folder not owned by nobody · .*manager3 · UCP API$/);
  assert.match(p.tooltip, /^clusterID \(new in this UCP\): abc123$/m);
  assert.match(p.tooltip, /^\(not sent by UCP\): logFileName$/m);
  assert.match(p.tooltip, /^Completed: 2024-05-01T11:00:05Z$/m);
});

test('an SSH-only row reads exactly as before; one in both lists says so', () => {
  const [both, only] = mergeHistories([ours({ id: 'b', created_at: '2024-05-01T11:00:00Z' }), ours({ id: 's' })], [api({ id: 'b' })]);
  assert.match(mergedBackupPresentation(both.record, both, NOW).description, / · UCP API \+ SSH$/);
  assert.doesNotMatch(mergedBackupPresentation(both.record, both, NOW).tooltip, /Size: not known/);
  const plain = mergedBackupPresentation(only.record, only, NOW);
  assert.doesNotMatch(plain.description, /UCP API/);
  assert.doesNotMatch(plain.tooltip, /Source:/);
});

test('config: a URL-only cluster (ucpUrl + ucpAuth) needs no nodes; without ucpAuth it still does', () => {
  const { clusters } = parseConfig({ clusters: [{ name: 'api', ucpUrl: 'https://ucp.example.com', ucpAuth: 'login', ucpUsername: 'admin' }, { name: 'b', ucpUrl: 'https://u', ucpAuth: 'bundle', nodes: [] }] });
  assert.deepEqual(clusters[0].nodes, []);
  assert.ok(isApiCluster(clusters[0]) && isApiCluster(clusters[1]));
  assert.throws(() => findNode(clusters[0], undefined), /reached through the UCP API only/);
  assert.throws(() => parseConfig({ clusters: [{ name: 'x', ucpUrl: 'https://u', nodes: [] }] }), /lists no nodes/);
  assert.throws(() => parseConfig({ clusters: [{ name: 'x', ucpUrl: 'https://u', ucpAuth: 'login', nodes: [] }] }), /no ucpUsername/);
  assert.throws(() => parseConfig({ clusters: [{ name: 'x', ucpUrl: 'https://u', ucpAuth: 'basic', nodes: [] }] }), /ucpAuth "basic"/);
  assert.match(apiClusterRow({ ...clusters[0], ucpInsecure: true }).detail, /NOT checked/);
});

function memory() {
  const secrets = new Map<string, string>();
  const state = new Map<string, unknown>();
  return {
    secrets,
    state,
    secretStore: { get: async (k: string) => secrets.get(k), store: async (k: string, v: string) => void secrets.set(k, v), delete: async (k: string) => void secrets.delete(k) },
    stateStore: { get: <T>(k: string) => state.get(k) as T | undefined, update: async (k: string, v: unknown) => void state.set(k, v) },
  };
}

test('the password and the bundle key live in SecretStorage only; certificates and CA pins in state; Remove forgets them', async () => {
  const m = memory();
  const s = new ApiSecrets(m.secretStore, m.stateStore);
  await s.rememberPassword('c1', 'PASSWORD-MARKER-1');
  await s.rememberBundle('c2', { ca: 'CA', cert: 'CERT', key: 'KEY-MARKER-2' });
  assert.equal(m.secrets.get(ucpPasswordKey('c1')), 'PASSWORD-MARKER-1');
  assert.equal(m.secrets.get(ucpBundleKeyKey('c2')), 'KEY-MARKER-2');
  assert.doesNotMatch(JSON.stringify([...m.state]), /MARKER/, 'no secret in globalState');
  assert.deepEqual(await s.bundle('c2'), { ca: 'CA', cert: 'CERT', key: 'KEY-MARKER-2' });
  await s.forget('c2');
  assert.equal(await s.bundle('c2'), undefined);
  assert.equal(m.secrets.has(ucpBundleKeyKey('c2')), false);
  const pins = new StateCaPinStore(m.stateStore);
  await pins.set('https://a:1', { sha256: ['AA'], pem: 'P', pinnedAt: 'now' });
  await pins.set('https://b:2', { sha256: ['BB'], pem: 'Q', pinnedAt: 'now' });
  assert.equal((await pins.get('https://a:1'))?.sha256[0], 'AA');
  assert.equal(await pins.forget('https://a:1'), true);
  assert.equal(await pins.get('https://a:1'), undefined);
  assert.equal((await pins.get('https://b:2'))?.pem, 'Q');
});

test("errors read with VS Code's advice, never the CLI's flags; the server's words kept", () => {
  const cases: [Error, RegExp][] = [
    [new AnotherBackupRunningError('backup failed: another backup is running'), /^UCP refused the backup: backup failed: another backup is running\. Only one backup may run at a time: wait until the running one in the Backups list ends/],
    [new MalformedRequestError('hostPath must be absolute'), /\(400\): hostPath must be absolute\. Check the folder/],
    [new ServerError(500, 'disk full'), /^UCP answered 500: disk full\. See the ucp-controller logs/],
    [new CaChangedError('ucp:443', ['AA'], ['BB']), /has changed .*refusing to connect.*remove the cluster \(UCP: Remove Cluster forgets the pinned CA\)/],
    [new AuthenticationError('UCP rejected the login of "admin" (401).', 'Check the password file.'), /VS Code asks for the password again/],
    [new WaitCancelledError('id-7'), /^Stopped waiting for backup id-7; it goes on in UCP \(the API cannot cancel it\)\. The Backups list shows how it ends\.$/],
  ];
  for (const [err, want] of cases) {
    const text = describeApiError(err);
    assert.match(text, want);
    assert.doesNotMatch(text, /--[a-z]|ucp-backup api/, text);
  }
  assert.ok(isRejectedLogin(new AuthenticationError('UCP rejected the login of "admin" (401).')));
  assert.ok(!isRejectedLogin(new AuthenticationError()));
});

test('5,000 API records merged with 5,000 of ours (2,500 shared): one row per ID, newest first (time printed, not asserted)', (t) => {
  const iso = (i: number) => new Date(Date.parse('2025-01-01T00:00:00Z') + i * 60_000).toISOString();
  const mine = Array.from({ length: 5000 }, (_, i) => ours({ id: `b-${i}`, created_at: iso(i) }));
  const theirs = Array.from({ length: 5000 }, (_, i) => api({ id: `b-${i + 2500}`, created_at: iso(i + 2500) }));
  const started = performance.now();
  const merged = mergeHistories(mine, theirs);
  const rows = merged.slice(0, 50).map((m) => mergedBackupPresentation(m.record, m, NOW));
  t.diagnostic(`merge of 10,000 records and 50 rows: ${(performance.now() - started).toFixed(1)} ms`);
  assert.equal(merged.length, 7500);
  assert.equal(new Set(merged.map((m) => m.record.id)).size, 7500);
  assert.equal(merged[0].record.id, 'b-7499');
  assert.deepEqual([merged[0].source, merged[2500].source, merged[7499].source], ['api', 'both', 'ssh']);
  assert.ok(merged.every((m, i) => i === 0 || merged[i - 1].record.created_at >= m.record.created_at));
  assert.equal(rows.length, 50);
});
