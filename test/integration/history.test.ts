/**
 * Every backup is a record with the spec's backup schema (IN_PROGRESS → SUCCESS | FAILED),
 * kept in the swarm so `list`/`show` see it from any manager, and — for a local file — also
 * on the admin's machine, so it is still listed when no manager answers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { runBackup } from '../../src/core/engine/runBackup';
import { BackupRunningError } from '../../src/core/engine/errors';
import { LocalHistory } from '../../src/core/history/localHistory';
import { SPEC_FIELDS, ZERO_TIME, type BackupRecord } from '../../src/core/history/record';
import { cluster, node, workDir, sshDocker, waitForNoLock } from './backupKit';

const pool = new SessionPool();
const { dir } = workDir('ucp-backup-history-');
const env = { UCP_BACKUP_STATE_DIR: join(dir, 'state') };
/** Ours, beyond the spec's fields. */
const OURS = ['size', 'sha256', 'ucpVersion', 'engine', 'engineReason', 'authStorePaused', 'location', 'cluster'];
const states: BackupRecord[] = [];
let record: BackupRecord;
let timings: Record<string, number> | undefined;

/** A config file naming only some nodes of the demo cluster (or a node that never answers). */
async function configWith(name: string, nodes: object[]): Promise<string> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ clusters: [{ ...(await cluster()), nodes }] }));
  return file;
}

before(async () => {
  const docker = await sshDocker(pool, 'manager1');
  for (;;) {
    await waitForNoLock(docker);
    states.length = 0;
    try {
      // The run's per-step timings come with its result, not in the stored record.
      ({ timingsMs: timings, ...record } = await runBackup(
        { destination: { kind: 'local', path: join(dir, 'h.tar') }, noPassphrase: true, includeLogs: false, engine: 'builtin' },
        { docker, cluster: await cluster(), node: await node('manager1'), localHistory: new LocalHistory(join(dir, 'state')), onRecord: (r) => states.push(r) },
      ));
      return;
    } catch (err) {
      if (!(err instanceof BackupRunningError)) throw err;
    }
  }
});
after(() => {
  pool.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

test("a record has exactly the spec's fields plus ours, and goes IN_PROGRESS → SUCCESS", () => {
  assert.deepEqual(states.map((s) => s.backupState), ['IN_PROGRESS', 'SUCCESS']);
  const [running, done] = states;
  assert.equal(running.completed_at, ZERO_TIME, 'the spec shows 0001-01-01T00:00:00Z while running');
  assert.equal(running.shortError, '');
  for (const r of states) {
    for (const f of SPEC_FIELDS) assert.ok(f in r, `missing ${f}`);
    assert.deepEqual(Object.keys(r).filter((k) => !(SPEC_FIELDS as readonly string[]).includes(k) && !OURS.includes(k)), []);
  }
  assert.match(done.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(typeof done.encrypted, 'boolean');
  assert.equal(done.fileName, 'h.tar');
  assert.equal(done.logFileName, '', 'empty unless logs are saved (spec)');
  assert.equal(done.backupPath, dir);
  assert.equal(done.nodeLocation, 'manager1');
  assert.ok(Date.parse(done.created_at) <= Date.parse(done.completed_at));
  assert.equal(done.ucpVersion, '3.2.4');
  assert.equal(done.engine, 'builtin');
  assert.equal(typeof done.size, 'number');
  assert.match(done.sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.deepEqual(record, done);
  assert.ok(timings && Object.values(timings).length > 0 && Object.values(timings).every((ms) => typeof ms === 'number' && ms >= 0), `per-step timings: ${JSON.stringify(timings)}`);
});

test('list and show find the record through any one manager (it is kept in the swarm)', async () => {
  // An empty local history: what another admin's machine sees. One manager per call.
  const elsewhere = { UCP_BACKUP_STATE_DIR: join(dir, 'other-admin') };
  // The backup ran on manager1; manager2 is asked alone. manager3 comes first in the last
  // config, manager2 after it: teammates' disruption tests may have manager3 down, and then
  // list falls through to the next manager.
  const listed = await runCli(['list', '--config', await configWith('only-manager2', [await node('manager2')]), '--json'], { env: elsewhere });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as BackupRecord[]).find((r) => r.id === record.id), record, 'list through manager2');
  const shown = await runCli(['show', '--config', await configWith('only-manager2', [await node('manager2')]), record.id, '--json'], { env: elsewhere });
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(JSON.parse(shown.stdout), record, 'show through manager2');
  const table = await runCli(['list', '--config', await configWith('manager3-first', [await node('manager3'), await node('manager2')])], { env: elsewhere });
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^ID\s+STATE\s+CREATED/);
  assert.match(table.stdout, new RegExp(`^${record.id}\\s+SUCCESS\\s`, 'm'), 'list through manager3 (or the next manager)');
});

test('show exits 4 for an unknown ID', async () => {
  const r = await runCli(['show', '--config', await configWith('all', (await cluster()).nodes), '00000000-0000-4000-8000-000000000000'], { env });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /No backup with ID 00000000-0000-4000-8000-000000000000/);
});

test('a local-file record is still listed from this machine when no manager answers', async () => {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const config = await configWith('unreachable', [{ name: 'gone', host: '127.0.0.1', port: 1, username: 'root' }]);
  const r = await runCli(['list', '--config', config, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no manager reachable, showing local records only/);
  assert.deepEqual((JSON.parse(r.stdout) as BackupRecord[]).find((x) => x.id === record.id), record);
});
