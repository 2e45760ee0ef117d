/**
 * "UCP: Restore Drill" as VS Code offers it: one command in the UCP category, on a `.tar` in
 * the Explorer and on backup rows that have an archive (never on a failed or missing one, nor
 * the Backups group row), registered in the one commands module; and what a drilled row shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_IDS } from '../../src/vscode/commandIds';
import { backupPresentation } from '../../src/vscode/tree/backupPresentation';
import type { BackupRecord } from '../../src/core/history/record';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const ID = 'ucpBackup.drill';

test('Restore Drill is a UCP command, in the Explorer on .tar files and on backup rows with an archive only', () => {
  const cmd = pkg.contributes.commands.find((c: { command: string }) => c.command === ID);
  assert.deepEqual([cmd?.title, cmd?.category], ['Restore Drill', 'UCP']);
  assert.ok(COMMAND_IDS.includes(ID), 'in COMMAND_IDS, so commands.ts must give it a handler (the Record type checks)');
  assert.match(readFileSync(join(ROOT, 'src', 'vscode', 'commands.ts'), 'utf8'), /'ucpBackup\.drill': \(arg\?: vscode\.Uri \| UcpNode\) => restoreDrill\(/);

  const explorer = pkg.contributes.menus['explorer/context'].filter((m: { command: string }) => m.command === ID);
  assert.deepEqual(explorer.map((m: { when: string }) => m.when), ['resourceExtname == .tar']);

  const rows = ['cluster', 'node', 'backups', 'more', 'message', 'backup.inProgress', 'backup.failed', 'backup.success.local', 'backup.success.remote', 'backup.missing'];
  const items = pkg.contributes.menus['view/item/context'].filter((m: { command: string }) => m.command === ID) as { when: string }[];
  assert.ok(items.length > 0);
  const offered = rows.filter((row) => items.some(({ when }) => {
    assert.match(when, /view == ucpBackup\.tree/);
    const re = /viewItem =~ \/(.+?)\/(?:\s|$)/.exec(when);
    const eq = /viewItem == (\S+)/.exec(when);
    return re ? new RegExp(re[1]).test(row) : eq ? eq[1] === row : true;
  }));
  assert.deepEqual(offered, ['backup.success.local', 'backup.success.remote']);
  // Not hidden from the palette: there it asks for a file.
  assert.ok(!(pkg.contributes.menus.commandPalette ?? []).some((m: { command: string; when: string }) => m.command === ID && m.when === 'false'));
});

const record = (o: Partial<BackupRecord> = {}): BackupRecord => ({ id: 'b1', encrypted: true, fileName: 'b1.tar', logFileName: '', backupPath: '/var/backups/ucp', backupState: 'SUCCESS', nodeLocation: 'manager1', shortError: '', created_at: '2026-01-01T00:00:00Z', completed_at: '2026-01-01T00:01:00Z', location: 'host', ...o });

test('a backup row shows its last drill: never drilled says so; PASS, WARN and FAIL each have their own icon and the findings in the tooltip', () => {
  const never = backupPresentation(record());
  assert.match(never.tooltip!, /Never restore-drilled/);
  assert.equal(never.icon, 'check');
  const drilled = (verdict: 'PASS' | 'WARN' | 'FAIL', findings: string[] = []) => backupPresentation(record({ lastDrill: { at: '2026-01-02T03:04:05Z', verdict, findings, revision: 42, keys: 31, ranOn: 'manager2', durationMs: 900 } }));
  const pass = drilled('PASS');
  assert.equal(pass.icon, 'verified-filled');
  assert.match(pass.tooltip!, /Last restore drill: PASS, .* \(etcd on manager2, revision 42, 31 keys\)/);
  const warn = drilled('WARN', ['WARN Server certificate ucp-controller-server-certs: expires in 10 days']);
  assert.equal(warn.icon, 'verified');
  assert.match(warn.tooltip!, /WARN Server certificate ucp-controller-server-certs: expires in 10 days/);
  const fail = drilled('FAIL', ['FAIL etcd snapshot restores: the snapshot was damaged']);
  assert.equal(fail.icon, 'error');
  assert.equal(fail.color, 'errorForeground');
  // Shape-checked: a record from the swarm with a broken lastDrill reads as never drilled.
  assert.match(backupPresentation(record({ lastDrill: { verdict: 'GREAT' } as never })).tooltip!, /Never restore-drilled/);
});
