/** One tab per backup (issue 15, item 9): the rules DetailsPanels applies when a backup is opened again. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackupRecord } from '../../src/core/history/record';
import type { PanelContent, PanelRef, ReportView } from '../../src/shared/protocol';
import { localPathOf, mergedContent } from '../../src/vscode/panels/panelReuse';

const record = { id: 'b1', fileName: 'demo.tar', backupPath: '/work', location: 'local' } as BackupRecord;
const backupRef: PanelRef = { kind: 'backup', cluster: 'demo', id: 'b1' };
const fileRef: PanelRef = { kind: 'file', path: '/work/demo.tar' };
const report = { verdict: 'VALID' } as ReportView;

test('a local backup\'s panel is found by its file path (the Explorer\'s Verify reuses it)', () => {
  assert.equal(localPathOf({ kind: 'details', ref: backupRef, record }, backupRef), '/work/demo.tar');
  assert.equal(localPathOf(undefined, fileRef), '/work/demo.tar');
  assert.equal(localPathOf({ kind: 'details', ref: backupRef, record: { ...record, location: 'host' } }, backupRef), undefined);
});

test('opening a backup again keeps its listing; a file report in its panel keeps the record', () => {
  const open: PanelContent = { kind: 'details', ref: backupRef, record, report };
  assert.deepEqual(mergedContent(open, { kind: 'details', ref: backupRef, record }), open);
  const newer = { verdict: 'INVALID' } as ReportView;
  assert.deepEqual(mergedContent(open, { kind: 'details', ref: fileRef, report: newer }), { kind: 'details', ref: backupRef, record, report: newer });
  assert.deepEqual(mergedContent({ kind: 'details', ref: fileRef }, { kind: 'details', ref: fileRef, report }), { kind: 'details', ref: fileRef, record: undefined, report });
});
