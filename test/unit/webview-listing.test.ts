/** The archive listing's filter, sort and the spec's grouping (pure model behind the webview). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRows, countByCategory } from '../../webview-ui/src/listingModel';
import { categorize } from '../../src/shared/categories';
import { displayName, formatMode } from '../../src/shared/format';
import type { EntryView } from '../../src/shared/protocol';

// The reference layout of a real backup (real-backup-layout.md), a few of its 27 entries.
const e = (name: string, size = 0, type: EntryView['type'] = 'file'): EntryView => ({ name, type, size, mode: 0o644, uid: 0, gid: 0, mtime: '2021-09-13T16:11:00Z' });
const REAL = [
  e('./ucp-auth-store.json', 8378),
  e('./ucp-kv.json', 10353),
  e('./ucp-backup/1631549510183/', 0, 'directory'),
  e('./ucp-backup/1631549510183/auth-store.tar.gz', 13543),
  e('./ucp-backup/1631549510183/etcd.backup.db', 5574688),
  e('./ucp-client-root-ca/key.pem', 227),
  e('./ucp-controller-server-certs/key.pem', 2459),
];

test("entries fall into the spec's groups", () => {
  assert.equal(categorize('./ucp-controller-server-certs/key.pem'), 'certificates');
  assert.equal(categorize('./ucp-backup/1631549510183/etcd.backup.db'), 'etcd');
  assert.equal(categorize('./ucp-backup/1631549510183/auth-store.tar.gz'), 'authStore');
  assert.equal(categorize('./ucp-kv.json'), 'containerMetadata');
  assert.equal(categorize('./ucp-backup/1631549510183/'), 'other');
  assert.deepEqual(countByCategory(REAL), { certificates: 2, etcd: 1, authStore: 1, containerMetadata: 2, other: 1 });
});

test('grouped rows put each group header before its entries; collapsed groups hide them', () => {
  const rows = buildRows(REAL, { filter: '', sort: { column: 'name', descending: false }, grouped: true, collapsed: new Set() });
  assert.deepEqual(
    rows.map((r) => (r.kind === 'group' ? `[${r.category} ${r.count}]` : r.entry.name)),
    ['[certificates 2]', './ucp-client-root-ca/key.pem', './ucp-controller-server-certs/key.pem', '[etcd 1]', './ucp-backup/1631549510183/etcd.backup.db', '[authStore 1]', './ucp-backup/1631549510183/auth-store.tar.gz', '[containerMetadata 2]', './ucp-auth-store.json', './ucp-kv.json', '[other 1]', './ucp-backup/1631549510183/'],
  );
  const collapsed = buildRows(REAL, { filter: '', sort: { column: 'name', descending: false }, grouped: true, collapsed: new Set(['certificates']) });
  assert.deepEqual(collapsed.slice(0, 2).map((r) => (r.kind === 'group' ? `[${r.category} ${r.count} ${r.collapsed}]` : r.entry.name)), ['[certificates 2 true]', '[etcd 1 false]']);
});

test('filter is a case-insensitive substring of the name; sort by size descending', () => {
  const rows = buildRows(REAL, { filter: 'KEY.PEM', sort: { column: 'size', descending: true }, grouped: false, collapsed: new Set() });
  assert.deepEqual(rows.map((r) => (r.kind === 'entry' ? r.entry.name : '')), ['./ucp-controller-server-certs/key.pem', './ucp-client-root-ca/key.pem']);
});

test('100,000 entries are filtered and sorted without trouble', () => {
  const many = Array.from({ length: 100_000 }, (_, i) => e(`./ucp-auth-store-data/f${i}`, i));
  const rows = buildRows(many, { filter: 'f9999', sort: { column: 'size', descending: false }, grouped: true, collapsed: new Set() });
  assert.deepEqual(rows.map((r) => (r.kind === 'group' ? r.category : r.entry.name)), ['authStore', './ucp-auth-store-data/f9999', ...Array.from({ length: 10 }, (_, i) => `./ucp-auth-store-data/f9999${i}`)]);
});

test('names with control or bidi characters are shown with visible escapes', () => {
  assert.equal(displayName('a\x1b[31mb'), 'a\\x1b[31mb');
  assert.equal(displayName('x\u202Egpj.exe'), 'x\\u202egpj.exe');
  assert.equal(displayName('<img src=x>'), '<img src=x>');
  assert.equal(formatMode(0o755, 'directory'), 'drwxr-xr-x');
  assert.equal(formatMode(0o600, 'file'), '-rw-------');
});
