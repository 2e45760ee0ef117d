/**
 * What "Forget Passphrase", "Remove Cluster", "Add Cluster" (known_hosts) and "Break Stale
 * Backup Lock" do to the admin's data, minus the dialogs: forgetting deletes exactly the
 * cluster's SecretStorage key; removing edits the settings scope or the clusters file the
 * cluster came from; a known_hosts other than ssh's default is written into the node entry;
 * a live lock is never offered for breaking. (The live-lock refusal against the real cluster
 * lock is in test/integration/vscodeBreakLock.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LockInfo } from '../../src/core/lock/clusterLock';
import { buildNode, defaultKnownHostsFile, parseSshTarget, planClusterRemoval, removeClusterFromFile } from '../../src/vscode/clusterEdits';
import { loadClusters } from '../../src/vscode/clusterSource';
import { planLockBreak } from '../../src/vscode/lockBreak';
import { backupPassphraseKey, sshKeyPassphraseKey, StoredPassphrases, type SecretStore } from '../../src/vscode/secretKeys';

const dir = mkdtempSync(join(tmpdir(), 'ucp-vscode-cmds-'));

/** SecretStorage's contract (get/store/delete by key) over a Map, as the OS keychain would keep it. */
class MapSecrets implements SecretStore {
  readonly data = new Map<string, string>();
  async get(key: string) {
    return this.data.get(key);
  }
  async store(key: string, value: string) {
    this.data.set(key, value);
  }
  async delete(key: string) {
    this.data.delete(key);
  }
}

test('Forget Passphrase deletes the cluster\'s SecretStorage key and nothing else', async () => {
  const secrets = new MapSecrets();
  const store = new StoredPassphrases(secrets);
  await store.remember('prod', 'correct horse battery');
  await store.remember('staging', 'another long passphrase');
  await secrets.store(sshKeyPassphraseKey('/home/admin/.ssh/id_ed25519'), 'ssh key pass');
  assert.equal(await store.stored('prod'), 'correct horse battery');
  assert.equal(await store.forget('prod'), true);
  assert.equal(secrets.data.has(backupPassphraseKey('prod')), false);
  assert.equal(await store.stored('prod'), undefined);
  assert.equal(await store.stored('staging'), 'another long passphrase');
  assert.equal(secrets.data.size, 2, 'the other cluster and the SSH key passphrase stay');
  assert.equal(await store.forget('prod'), false, 'forgetting twice says nothing was stored');
});

test('Remove Cluster edits every settings scope that lists the cluster, and only those', () => {
  const entries = loadClusters([{ name: 'prod', nodes: [{ host: 'p1' }] }, { name: 'lab', nodes: [{ host: 'l1' }] }], undefined);
  const prod = entries.find((e) => e.cluster.name === 'prod')!;
  const plan = planClusterRemoval(prod, {
    globalValue: [{ name: 'prod', nodes: [{ host: 'p1' }] }, { name: 'lab', nodes: [{ host: 'l1' }] }],
    workspaceValue: [{ name: 'prod', nodes: [{ host: 'p1' }] }],
    workspaceFolderValue: [{ name: 'other', nodes: [{ host: 'o1' }] }],
  });
  assert.deepEqual(plan, {
    source: 'setting',
    edits: [
      { scope: 'globalValue', value: [{ name: 'lab', nodes: [{ host: 'l1' }] }] },
      { scope: 'workspaceValue', value: [] },
    ],
  });
});

test('Remove Cluster of a cluster from the clusters file edits that file, keeping the rest of it', async () => {
  const file = join(dir, 'clusters.json');
  const original = { clusters: [{ name: 'demo', nodes: [{ host: '127.0.0.1', port: 2201 }] }, { name: 'prod', nodes: [{ host: 'p1' }] }], comment: 'kept' };
  writeFileSync(file, JSON.stringify(original));
  chmodSync(file, 0o640);
  const demo = loadClusters([], file).find((e) => e.cluster.name === 'demo')!;
  const plan = planClusterRemoval(demo, { globalValue: [{ name: 'demo', nodes: [{ host: 'x' }] }] });
  assert.deepEqual(plan, { source: 'file', path: file }, 'the file it came from, not the settings');
  await removeClusterFromFile(file, 'demo');
  const after = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(after, { clusters: [original.clusters[1]], comment: 'kept' });
  assert.equal(statSync(file).mode & 0o777, 0o640, 'file mode kept');
  assert.deepEqual(loadClusters([], file).map((e) => e.cluster.name), ['prod']);
  await assert.rejects(removeClusterFromFile(file, 'demo'), /not in/);
});

test('Add Cluster: the SSH destination is parsed like ssh does', () => {
  assert.deepEqual(parseSshTarget('admin@10.0.0.5:2222'), { username: 'admin', host: '10.0.0.5', port: 2222 });
  assert.deepEqual(parseSshTarget('manager1'), { username: undefined, host: 'manager1', port: undefined });
  assert.deepEqual(parseSshTarget('root@[fd00::1]:22'), { username: 'root', host: 'fd00::1', port: 22 });
  assert.equal(parseSshTarget('two words'), undefined);
  assert.equal(parseSshTarget(''), undefined);
});

test('Add Cluster: a chosen known_hosts file is stored in the node; ssh\'s default is not', () => {
  const other = join(dir, 'team_known_hosts');
  const base = { host: 'manager1.example', username: 'admin', dockerSocket: '/var/run/docker.sock' };
  const withOther = buildNode({ ...base, knownHostsFile: other });
  assert.equal(withOther.knownHostsFile, other);
  assert.equal(withOther.useAgent, true);
  assert.equal(withOther.dockerSocket, undefined, 'the default socket is not written');
  const fallback = defaultKnownHostsFile(base);
  assert.equal(buildNode({ ...base, knownHostsFile: fallback }).knownHostsFile, undefined);
  const keyed = buildNode({ ...base, port: 2201, identityFile: '/k/id', dockerSocket: '/run/docker.sock' });
  assert.deepEqual(keyed, { name: 'manager1.example', host: 'manager1.example', port: 2201, username: 'admin', identityFile: '/k/id', dockerSocket: '/run/docker.sock' });
});

test('Add Cluster: the default offered is UserKnownHostsFile from ~/.ssh/config when set, like ssh', () => {
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  writeFileSync(join(home, '.ssh', 'config'), 'Host team-*\n  UserKnownHostsFile /etc/ssh/team_known_hosts\n');
  const saved = process.env.HOME;
  process.env.HOME = home;
  try {
    assert.equal(defaultKnownHostsFile({ host: 'team-m1' }), '/etc/ssh/team_known_hosts');
    assert.equal(defaultKnownHostsFile({ host: 'elsewhere' }), join(home, '.ssh', 'known_hosts'));
    assert.equal(buildNode({ host: 'team-m1', dockerSocket: '/var/run/docker.sock', knownHostsFile: '/etc/ssh/team_known_hosts' }).knownHostsFile, undefined);
  } finally {
    process.env.HOME = saved;
  }
});

const lock = (over: Partial<LockInfo>): LockInfo => ({
  backupId: 'b-1', owner: 'alice@laptop', host: 'laptop', pid: 4242, node: 'manager1', since: '2024-05-01T11:00:00Z', heartbeat: '2024-05-01T11:00:00Z', configId: 'cfg', stale: false, expired: false, ...over,
});

test('Break Stale Backup Lock: no lock says so; a live lock is refused; a stale one is offered with who held it', () => {
  assert.deepEqual(planLockBreak('prod', undefined), { kind: 'free', message: 'No backup lock is held in cluster prod.' });
  const live = planLockBreak('prod', lock({}));
  assert.equal(live.kind, 'live');
  assert.match(live.kind === 'live' ? live.message : '', /A backup is running in prod; its lock was not touched\. Backup b-1 by alice@laptop/);
  const stale = planLockBreak('prod', lock({ stale: true, staleReason: 'no heartbeat since 2024-05-01T11:00:00Z' }));
  assert.equal(stale.kind, 'stale');
  if (stale.kind === 'stale') {
    assert.equal(stale.question, 'Break the stale backup lock of prod?');
    assert.match(stale.detail, /Backup b-1 by alice@laptop on laptop \(node manager1\)/);
    assert.match(stale.detail, /no heartbeat since/);
  }
});
