/**
 * What the admin reads in the sidebar: node states, backup rows newest first with state,
 * relative time, size, lock and node; FAILED rows show the short error; contextValues
 * match the package.json menus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManagerStatus } from '../../src/core/docker/discovery';
import type { BackupRecord } from '../../src/core/history/record';
import { INTERRUPTED_ERROR, isInterrupted, markInterrupted, RECONCILE_GRACE_MS } from '../../src/core/history/reconcile';
import { formatLocalTime } from '../../src/shared/format';
import { backupPresentation, engineLine, nodePresentation, sortBackups, anyInProgress, capBackups, moreLabel, DEFAULT_MAX_BACKUPS_SHOWN } from '../../src/vscode/tree/presentation';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ucp = { installed: true, version: '3.2.4', namespace: 'docker' as const, containers: [], volumes: [] };
const manager = (over: Partial<ManagerStatus>): ManagerStatus => ({ name: 'manager1', leader: false, ucp, state: 'ok', ...over });
const record = (over: Partial<BackupRecord>): BackupRecord => ({
  id: 'id-1', encrypted: true, fileName: 'backup1.tar', logFileName: 'backup1.log', backupPath: '/var/backups/ucp', backupState: 'SUCCESS',
  nodeLocation: 'manager1', shortError: '', created_at: '2024-05-01T11:55:00Z', completed_at: '2024-05-01T11:56:00Z', size: 5 * 1024 * 1024, location: 'host', ...over,
});

test('a leader manager reads "UCP 3.2.4 · leader" and can be backed up', () => {
  const p = nodePresentation(manager({ leader: true, reachability: 'leader', engineVersion: '20.10.24', address: '127.0.0.1:2377' }));
  assert.equal(p.label, 'manager1');
  assert.equal(p.description, 'UCP 3.2.4 · leader');
  assert.equal(p.contextValue, 'node');
  assert.equal(p.icon, 'star-full');
  assert.match(p.tooltip, /Address: 127\.0\.0\.1:2377/);
  assert.match(p.tooltip, /Docker Engine 20\.10\.24/);
});

test('each node state has its own icon, text and context value', () => {
  const cases: [Partial<ManagerStatus>, string, string][] = [
    [{ reachability: 'reachable' }, 'UCP 3.2.4 · reachable', 'node'],
    [{ state: 'unreachable', reachability: 'unreachable', error: 'The swarm reports this manager as unreachable.' }, 'UCP 3.2.4 · unreachable', 'node.unreachable'],
    [{ state: 'no-ucp', ucp: { installed: false, containers: [], volumes: [] } }, 'no UCP', 'node.noUcp'],
    [{ state: 'error', ucp: { installed: false, containers: [], volumes: [] }, error: 'Authentication failed' }, 'not connected', 'node.notConnected'],
  ];
  const icons = new Set<string>();
  for (const [over, description, contextValue] of cases) {
    const p = nodePresentation(manager(over));
    assert.equal(p.description, description);
    assert.equal(p.contextValue, contextValue);
    icons.add(p.icon);
    if (over.error) assert.match(p.tooltip, new RegExp(over.error));
  }
  assert.equal(icons.size, cases.length);
  assert.equal(nodePresentation(manager({ selinux: true, leader: true })).description, 'UCP 3.2.4 · leader · SELinux');
});

test('a manager found in the swarm says "(discovered)" and, in its tooltip, how it was reached', () => {
  const nodeConfig = { name: 'manager2', host: '127.0.0.2', port: 2200, username: 'ucpadmin' };
  const p = nodePresentation(manager({ name: 'manager2', reachability: 'reachable', nodeConfig, discoveredVia: 'manager1' }));
  assert.equal(p.description, 'UCP 3.2.4 · reachable (discovered)');
  assert.equal(p.contextValue, 'node');
  assert.match(p.tooltip, /reached at 127\.0\.0\.2:2200 with manager1's SSH settings/);
  // A configured node says neither.
  const own = nodePresentation(manager({ reachability: 'reachable', nodeConfig: { ...nodeConfig, name: 'manager1', host: '127.0.0.1' } }));
  assert.equal(own.description, 'UCP 3.2.4 · reachable');
  assert.doesNotMatch(own.tooltip, /SSH settings|discovered/i);
});

test('the node tooltip says which engine a backup there would use, and why', () => {
  const withImage = manager({ ucp: { ...ucp, officialImage: 'docker/ucp:3.2.4' } });
  assert.match(nodePresentation(withImage, 'auto').tooltip, /Backup engine: official docker\/ucp:3\.2\.4 \(auto: the image is on this node\), run with --no-passphrase; encrypted on this machine/);
  assert.equal(engineLine(manager({}), 'auto'), 'Backup engine: built-in (auto: no docker/ucp:3.2.4 image on this node)');
  assert.match(engineLine(withImage, 'builtin'), /built-in \(setting ucpBackup\.engine = builtin\)/);
  assert.match(engineLine(manager({}), 'official'), /no docker\/ucp:3\.2\.4 image on this node: a backup here fails/);
  assert.equal(engineLine(manager({ ucp: { installed: false, containers: [], volumes: [] } }), 'auto'), '', 'no UCP, no engine');
});

test('a successful encrypted backup shows relative time, size, lock and node; exact time in the tooltip', () => {
  const p = backupPresentation(record({}), NOW);
  assert.equal(p.label, formatLocalTime('2024-05-01T11:55:00Z'), 'the local time is the label (never cut off)');
  assert.equal(p.description, 'backup1.tar · 5 minutes ago · 5.0 MiB · 🔒 · manager1');
  assert.equal(p.icon, 'check');
  assert.equal(p.contextValue, 'backup.success.remote');
  assert.match(p.tooltip, /Created: .* \(2024-05-01 11:55:00 UTC\)/);
  assert.equal(backupPresentation(record({ location: 'local', encrypted: false }), NOW).contextValue, 'backup.success.local');
});

test('a failed backup shows its short error; a running one spins', () => {
  const failed = backupPresentation(record({ backupState: 'FAILED', shortError: 'another backup is running', completed_at: '0001-01-01T00:00:00Z' }), NOW);
  assert.match(failed.description, /^not started: another backup was running · backup1\.tar · /);
  assert.equal(failed.icon, 'circle-slash', 'a refusal is not a red failure');
  assert.equal(failed.contextValue, 'backup.failed');
  assert.doesNotMatch(failed.tooltip, /Completed/);
  const running = backupPresentation(record({ backupState: 'IN_PROGRESS' }), NOW);
  assert.equal(running.icon, 'sync~spin');
  assert.equal(running.contextValue, 'backup.inProgress');
  assert.equal(anyInProgress([record({}), record({ backupState: 'IN_PROGRESS' })], NOW), true);
  // A crashed run's record stays IN_PROGRESS; it does not keep the tree refreshing for ever.
  assert.equal(anyInProgress([record({ backupState: 'IN_PROGRESS', created_at: '2024-05-01T10:00:00Z' })], NOW), false);
});

test('backups are listed newest first', () => {
  const sorted = sortBackups([record({ id: 'a', created_at: '2024-01-01T00:00:00Z' }), record({ id: 'b', created_at: '2024-03-01T00:00:00Z' }), record({ id: 'c', created_at: '2024-02-01T00:00:00Z' })]);
  assert.deepEqual(sorted.map((r) => r.id), ['b', 'c', 'a']);
});

test('every context value the tree produces is matched by a package.json menu', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const whens: string[] = pkg.contributes.menus['view/item/context'].map((m: { when: string }) => m.when);
  const matchesSome = (value: string) =>
    whens.some((w) => {
      const eq = /viewItem == ([\w.]+)/.exec(w);
      if (eq) return eq[1] === value;
      const re = /viewItem =~ \/(.+)\//.exec(w);
      return re ? new RegExp(re[1]).test(value) : false;
    });
  for (const v of ['cluster', 'node', 'backup.success.local', 'backup.success.remote', 'backup.failed', 'backup.inProgress', 'backup.missing']) {
    assert.ok(matchesSome(v), `no menu for ${v}`);
  }
  // Backing up is offered only on nodes that can be backed up.
  const backupWhens = pkg.contributes.menus['view/item/context'].filter((m: { command: string }) => m.command === 'ucpBackup.backupNow').map((m: { when: string }) => m.when);
  for (const w of backupWhens) {
    const re = /viewItem =~ \/(.+)\//.exec(w);
    const eq = /viewItem == ([\w.]+)/.exec(w);
    const ok = (v: string) => (re ? new RegExp(re[1]).test(v) : eq ? eq[1] === v : false);
    assert.equal(ok('node.unreachable'), false, w);
    assert.equal(ok('node.noUcp'), false, w);
  }
});

/** ~200 records, as on a long-lived cluster: one a minute, newest last. */
const many = (n: number) => Array.from({ length: n }, (_, i) => record({ id: `r${String(i).padStart(3, '0')}`, created_at: new Date(NOW - (n - i) * 60_000).toISOString() }));

test('a cluster with 200 backups lists the newest 50 and one "150 more…" item holding the rest', () => {
  const sorted = sortBackups(many(200));
  const { shown, rest } = capBackups(sorted, DEFAULT_MAX_BACKUPS_SHOWN);
  assert.equal(shown.length, 50);
  assert.equal(rest.length, 150);
  assert.equal(shown[0].id, 'r199', 'newest first');
  assert.equal(shown[49].id, 'r150');
  assert.equal(rest[0].id, 'r149', 'the rest continues where the list stops');
  assert.deepEqual([...shown, ...rest].map((r) => r.id), sorted.map((r) => r.id), 'nothing lost, nothing twice');
  assert.equal(moreLabel(rest.length), '150 more…');
});

test('the cap follows ucpBackup.maxBackupsShown; a short list has no "more" item; a bad value falls back to 50', () => {
  assert.deepEqual(capBackups(sortBackups(many(30)), 10).shown.length, 10);
  assert.equal(capBackups(sortBackups(many(30)), 10).rest.length, 20);
  assert.equal(capBackups(sortBackups(many(30)), 50).rest.length, 0);
  assert.equal(capBackups(sortBackups(many(30)), 30).rest.length, 0);
  assert.equal(capBackups(sortBackups(many(80)), 0).shown.length, 50);
  assert.equal(capBackups(sortBackups(many(80)), Number.NaN).shown.length, 50);
  const props = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).contributes.configuration.properties;
  assert.equal(props['ucpBackup.maxBackupsShown'].default, DEFAULT_MAX_BACKUPS_SHOWN);
  assert.equal(props['ucpBackup.maxBackupsShown'].type, 'number');
});

test('a running backup beyond the cap is still shown', () => {
  const records = many(60);
  records[0] = { ...records[0], backupState: 'IN_PROGRESS' };
  const { shown, rest } = capBackups(sortBackups(records), 50);
  assert.ok(shown.some((r) => r.id === 'r000'));
  assert.equal(rest.length, 9);
});

test('a record stuck IN_PROGRESS whose run holds no lock shows as interrupted, not spinning', () => {
  const stuck = record({ id: 'stuck', backupState: 'IN_PROGRESS', created_at: '2024-05-01T11:00:00Z', completed_at: '0001-01-01T00:00:00Z' });
  const [shown] = markInterrupted([stuck], undefined, NOW);
  assert.equal(shown.backupState, 'FAILED');
  assert.equal(shown.shortError, INTERRUPTED_ERROR);
  const p = backupPresentation(shown, NOW);
  assert.equal(p.icon, 'error');
  assert.match(p.description, /^FAILED: interrupted: the run ended without finishing · backup1\.tar · /);
  assert.equal(p.contextValue, 'backup.failed', 'it can be deleted like any failed backup');
  // Another backup holds the lock: this one's run is still gone.
  assert.equal(isInterrupted(stuck, { backupId: 'someone-else' }, NOW), true);
});

test('a record whose run holds the lock, or that was created moments ago, stays IN_PROGRESS', () => {
  const running = record({ id: 'running', backupState: 'IN_PROGRESS', created_at: '2024-05-01T09:00:00Z' });
  assert.equal(isInterrupted(running, { backupId: 'running' }, NOW), false);
  assert.equal(markInterrupted([running], { backupId: 'running' }, NOW)[0].backupState, 'IN_PROGRESS');
  // runBackup stores its record a moment before it takes the lock.
  const starting = record({ id: 'starting', backupState: 'IN_PROGRESS', created_at: new Date(NOW - RECONCILE_GRACE_MS + 1000).toISOString() });
  assert.equal(isInterrupted(starting, undefined, NOW), false);
  assert.equal(backupPresentation(markInterrupted([starting], undefined, NOW)[0], NOW).icon, 'sync~spin');
  // Finished records are never touched.
  assert.equal(isInterrupted(record({ backupState: 'SUCCESS' }), undefined, NOW), false);
});

test('a record whose own lock expired is interrupted at once; one whose lock looks dead but is not expired says so while it waits', () => {
  // Killed seconds after it started (a killed extension host): no grace, its lease decides.
  const killed = record({ id: 'killed', backupState: 'IN_PROGRESS', created_at: new Date(NOW - 30_000).toISOString() });
  const expired = { backupId: 'killed', expired: true, stale: true, staleReason: 'its lease expired: not renewed for 9 s (lease 6 s)' };
  assert.equal(isInterrupted(killed, expired, NOW), true);
  const [shown] = markInterrupted([killed], expired, NOW);
  assert.equal(shown.backupState, 'FAILED');
  assert.match(shown.shortError, /^interrupted: its run stopped renewing the cluster lock \(its lease expired: not renewed for 9 s/);
  // Its process on this machine is gone but the lease is not up: still in progress, with why it looks dead.
  const dead = { backupId: 'killed', expired: false, stale: true, staleReason: 'process 4242 on laptop is gone' };
  const [waiting] = markInterrupted([killed], dead, NOW);
  assert.equal(waiting.backupState, 'IN_PROGRESS');
  const p = backupPresentation(waiting, NOW);
  assert.match(p.description, /^in progress, not responding: process 4242 on laptop is gone; its lock expires by itself/);
  assert.equal(p.icon, 'warning', 'not the spinner: nothing is running');
  // A live lock: nothing said.
  assert.equal(markInterrupted([killed], { backupId: 'killed', expired: false, stale: false }, NOW)[0].shortError, killed.shortError);
});
