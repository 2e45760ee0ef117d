/**
 * UCP_BACKUP_HISTORY_SCOPE (issue 15: the demo opened on the test suite's leftovers): a scoped
 * history is its own in the real swarm: the default history never lists its records, it never
 * lists the default's, and reads, updates and removals stay on their side.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import Docker from 'dockerode';
import { createClusterRecord, getClusterRecord, historyScope, listClusterRecords, removeClusterRecord, updateClusterRecord } from '../../src/core/history/clusterHistory';
import type { BackupRecord } from '../../src/core/history/record';
import { testbedManager } from '../helpers/testbed';

const docker = new Docker({ socketPath: testbedManager('manager1').dockerSocketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);
const stamp = Date.now();
const record = (id: string): BackupRecord => ({ id, encrypted: false, fileName: `${id}.tar`, logFileName: '', backupPath: '/b', backupState: 'SUCCESS', nodeLocation: 'manager1', shortError: '', created_at: new Date().toISOString(), completed_at: new Date().toISOString(), cluster: 'demo' });
const inScope = <T>(scope: string | undefined, run: () => Promise<T>): Promise<T> => {
  const before = process.env.UCP_BACKUP_HISTORY_SCOPE;
  if (scope === undefined) delete process.env.UCP_BACKUP_HISTORY_SCOPE;
  else process.env.UCP_BACKUP_HISTORY_SCOPE = scope;
  return run().finally(() => (before === undefined ? delete process.env.UCP_BACKUP_HISTORY_SCOPE : (process.env.UCP_BACKUP_HISTORY_SCOPE = before)));
};

const mine = `scope-default-${stamp}`;
const theirs = `scope-demo-${stamp}`;

after(async () => {
  await inScope(undefined, () => removeClusterRecord(docker, mine));
  await inScope('e2e-scope', () => removeClusterRecord(docker, theirs));
});

test('a scoped history and the default one never see each other\'s records', async () => {
  await inScope(undefined, () => createClusterRecord(docker, record(mine)));
  await inScope('e2e-scope', () => createClusterRecord(docker, record(theirs)));
  const defaultIds = (await inScope(undefined, () => listClusterRecords(docker))).map((r) => r.id);
  const scopedIds = (await inScope('e2e-scope', () => listClusterRecords(docker))).map((r) => r.id);
  assert.ok(defaultIds.includes(mine) && !defaultIds.includes(theirs), 'the default history lists only its own');
  assert.deepEqual(scopedIds, [theirs], 'the scoped history lists only its own');
  assert.equal(await inScope(undefined, () => getClusterRecord(docker, theirs)), undefined);
  await inScope('e2e-scope', () => updateClusterRecord(docker, { ...record(theirs), backupState: 'FAILED', shortError: 'x' }));
  assert.equal((await inScope('e2e-scope', () => getClusterRecord(docker, theirs)))?.backupState, 'FAILED');
  await inScope(undefined, () => removeClusterRecord(docker, theirs)); // the default side cannot remove it
  assert.ok(await inScope('e2e-scope', () => getClusterRecord(docker, theirs)));
});

test('a scope that is not a short lowercase name is refused, never used as part of a config name', () => {
  for (const bad of ['Demo', '../x', 'a b', 'x'.repeat(40)]) assert.throws(() => historyScope({ UCP_BACKUP_HISTORY_SCOPE: bad }), /short lowercase name/);
  assert.equal(historyScope({}), '');
});
