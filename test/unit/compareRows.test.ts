/** Compare reads as an admin expects (issue 15, item 9): per-entry changes said per field, sizes to the byte where rounding hides them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntryView } from '../../src/shared/protocol';
import { describeChange, diffRows } from '../../webview-ui/src/compareModel';
import { olderFirst } from '../../src/shared/compareOrder';
import type { BackupRecord } from '../../src/core/history/record';

const entry = (over: Partial<EntryView>): EntryView => ({ name: './ucp-kv.json', type: 'file', size: 328_704, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: '1970-01-01T00:00:00Z', ...over }) as EntryView;

test('a size change that rounds alike is said to the byte, with the difference', () => {
  assert.equal(describeChange(['size'], entry({}), entry({ size: 329_100 })), 'size 328,704 bytes → 329,100 bytes (+396)');
  assert.equal(describeChange(['size'], entry({ size: 1024 }), entry({ size: 4096 })), 'size 1.0 KiB → 4.0 KiB (+3,072 bytes)');
});

test('content, mode, owner and type changes are named with both values', () => {
  const a = entry({ sha256: 'a'.repeat(64) });
  const b = entry({ sha256: 'b'.repeat(64), mode: 0o600, uid: 65534, gid: 65534, uname: 'nobody', gname: 'nogroup' });
  assert.equal(describeChange(['sha256', 'mode', 'owner'], a, b), `content (SHA-256 ${'a'.repeat(12)}… → ${'b'.repeat(12)}…, same size), mode 0644 → 0600, owner 0/0 → nobody/nogroup`);
  assert.equal(describeChange(['type'], a, entry({ type: 'directory' })), 'type file → directory');
});

test('rows: added and removed with their size to the byte, sorted by name', () => {
  const rows = diffRows({ added: [entry({ name: './b.json', size: 10 })], removed: [entry({ name: './a.json', size: 2048 })], changed: [], unchanged: 3 });
  assert.deepEqual(rows, [
    { status: 'removed', name: './a.json', detail: '2.0 KiB (2,048 bytes)' },
    { status: 'added', name: './b.json', detail: '10 B' },
  ]);
});

test('the older backup is A whichever was picked first', () => {
  const at = (created_at: string) => ({ record: { created_at } as BackupRecord, label: created_at });
  const older = at('2024-05-01T02:00:00Z');
  const newer = at('2024-05-02T02:00:00Z');
  assert.deepEqual(olderFirst(newer, older), [older, newer]);
  assert.deepEqual(olderFirst(older, newer), [older, newer]);
  const file = { label: 'x.tar' } as { label: string; record?: BackupRecord };
  assert.deepEqual(olderFirst(file, older), [file, older], 'a file without a record keeps the order picked');
});
