/**
 * `ucp-backup nodes` shows the swarm's managers — found through real sshd from the cluster
 * configuration — with hostnames, leader status and the UCP version installed on them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { loadTestbed, testNode, writeClustersConfig } from '../helpers/testbed';
import type { ClusterConfig } from '../../src/core/config';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import { discoverCluster, type ClusterStatus } from '../../src/core/docker/discovery';

const tb = loadTestbed();
const cluster = (JSON.parse(readFileSync(tb.clustersFile, 'utf8')) as { clusters: ClusterConfig[] }).clusters.find((c) => c.name === tb.clusterName)!;

/** The swarm's own answer, asked of manager1's dockerd directly (not through our code). */
function swarmManagers(): { hostname: string; leader: boolean }[] {
  const out = execFileSync('docker', ['-H', `unix://${tb.managers[0].dockerSocketPath}`, 'node', 'ls', '--filter', 'role=manager', '--format', '{{.Hostname}} {{.ManagerStatus}}'], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => ({ hostname: l.split(' ')[0], leader: l.endsWith('Leader') })).sort((a, b) => a.hostname.localeCompare(b.hostname));
}

test('nodes --json lists the three managers with hostnames, leader status and UCP version', async () => {
  const r = await runCli(['nodes', '--config', tb.clustersFile, '--cluster', tb.clusterName, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const status = JSON.parse(r.stdout) as ClusterStatus;
  assert.equal(status.cluster, tb.clusterName);
  assert.deepEqual(
    status.managers.map((m) => ({ hostname: m.hostname!, leader: m.leader })).sort((a, b) => a.hostname.localeCompare(b.hostname)),
    swarmManagers(),
  );
  assert.equal(status.managers.filter((m) => m.reachability === 'leader').length, 1);
  for (const m of status.managers) {
    const tbm = tb.managers.find((x) => x.name === m.name)!;
    assert.equal(m.nodeId, tbm.swarmNodeId);
    assert.equal(m.address, tbm.host);
    assert.equal(m.state, 'ok', `${m.name}: ${m.error}`);
    assert.equal(m.ucp.version, tb.ucpVersion);
    assert.equal(m.ucp.namespace, 'docker');
    assert.ok(m.ucp.containers.includes('ucp-proxy') && m.ucp.volumes.includes('ucp-controller-server-certs'));
    assert.equal(m.selinux, false);
    assert.equal(m.availability, 'active');
  }
  assert.equal(status.ucpVersion, tb.ucpVersion);
});

test('nodes prints a table with one row per manager', async () => {
  const r = await runCli(['nodes', '--config', tb.clustersFile, '--cluster', tb.clusterName]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], new RegExp(`Cluster ${tb.clusterName} \\(UCP ${tb.ucpVersion.replace(/\./g, '\\.')}\\)`));
  assert.match(lines[1], /^NAME\s+HOSTNAME\s+ADDRESS\s+STATUS/);
  for (const m of tb.managers) assert.ok(lines.some((l) => l.startsWith(m.name) && l.includes(`docker/ucp:${tb.ucpVersion}`)), `${m.name} row`);
  assert.equal(lines.filter((l) => /\bleader\b/.test(l)).length, 1);
});

test('a cluster configured with one manager still finds the others from the swarm', async () => {
  const pool = new SessionPool();
  try {
    const status = await discoverCluster({ ...cluster, nodes: [cluster.nodes[1]] }, pool);
    assert.equal(status.managers.length, 3);
    const configured = status.managers.filter((m) => !m.discoveredVia);
    assert.deepEqual(configured.map((m) => m.name), [cluster.nodes[1].name]);
    assert.equal(configured[0].state, 'ok');
    // The others are tried at their swarm addresses on manager2's port 2202, where nothing
    // listens (test/integration/discoverUnconfigured.test.ts reaches them on a common port).
    for (const m of status.managers.filter((x) => x.discoveredVia)) {
      assert.equal(m.discoveredVia, cluster.nodes[1].name);
      assert.equal(m.state, 'unreachable');
      assert.match(m.error ?? '', /not in the configuration/);
    }
  } finally {
    pool.closeAll();
  }
});

test('refreshing the cluster reuses the one SSH connection per node', async () => {
  const pool = new SessionPool();
  try {
    await discoverCluster(cluster, pool);
    await discoverCluster(cluster, pool);
    assert.equal(pool.all().length, 3);
    for (const s of pool.all()) assert.equal(s.handshakes, 1, s.name);
  } finally {
    pool.closeAll();
  }
});

test('nodes against an unreachable node exits 3 and says why', async () => {
  const bad = { clusters: [{ name: 'x', nodes: [{ ...cluster.nodes[0], port: 1 }] }] };
  const cfg = join(mkdtempSync(join(tmpdir(), 'nodes-cli-')), 'clusters.json');
  writeFileSync(cfg, JSON.stringify(bad));
  const r = await runCli(['nodes', '--config', cfg, '--json']);
  assert.equal(r.code, 3);
  const status = JSON.parse(r.stdout) as ClusterStatus;
  assert.equal(status.managers[0].state, 'unreachable');
  assert.equal(status.managers[0].errorName, 'ConnectError');
  assert.match(r.stderr, /could be reached/);
});

test('an unknown host key fails nodes without consent; --accept-new-host-keys records it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodes-hostkey-'));
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, '');
  const cfg = writeClustersConfig([{ name: 'one', nodes: [testNode(tb.managers[1], dir, { knownHostsFile }, tb)] }], dir);
  const refused = await runCli(['nodes', '--config', cfg, '--json']);
  assert.equal(refused.code, 3, refused.stderr);
  const m = (JSON.parse(refused.stdout) as ClusterStatus).managers[0];
  assert.equal(m.errorName, 'HostKeyUnknownError');
  assert.match(m.error ?? '', /SHA256:[A-Za-z0-9+/]{43}/);
  assert.equal(readFileSync(knownHostsFile, 'utf8'), '');
  const accepted = await runCli(['nodes', '--config', cfg, '--json', '--accept-new-host-keys']);
  assert.equal(accepted.code, 0, accepted.stderr);
  // OpenSSH now finds the manager in the file the CLI appended to.
  execFileSync('ssh-keygen', ['-F', `[${tb.managers[1].host}]:${tb.managers[1].sshPort}`, '-f', knownHostsFile]);
});

test('a passphrase-protected key is unlocked from --key-passphrase-file - (stdin), never argv', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodes-enckey-'));
  const node = testNode(tb.managers[0], dir, { identityFile: tb.ssh.encryptedIdentityFile }, tb);
  const cfg = writeClustersConfig([{ name: 'enc', nodes: [node] }], dir);
  const ok = await runCli(['nodes', '--config', cfg, '--json', '--key-passphrase-file', '-'], { stdin: `${tb.ssh.encryptedIdentityPassphrase}\n` });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as ClusterStatus).managers.filter((m) => m.state === 'ok').length, 1);
  assert.ok(!ok.stdout.includes(tb.ssh.encryptedIdentityPassphrase) && !ok.stderr.includes(tb.ssh.encryptedIdentityPassphrase));
  // Without a passphrase the key is skipped, and authentication fails with that said.
  const none = await runCli(['nodes', '--config', cfg, '--json']);
  assert.equal(none.code, 3);
  assert.equal((JSON.parse(none.stdout) as ClusterStatus).managers[0].errorName, 'AuthFailedError');
});
