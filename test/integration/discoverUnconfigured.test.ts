/**
 * One configured manager is enough: the swarm names the others, and they are reached at their
 * swarm addresses with the SSH settings of the configured node — as real managers all listen
 * on port 22. Here every manager's sshd also listens on 127.0.0.N:<commonSshPort>; the
 * configuration lists only manager1 there. Host keys of the discovered managers are checked
 * exactly like configured ones, and a node's own configuration still wins.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { descendsFrom, loadTestbed, tcpClientPids, tempDir, testNode, writeClustersConfig, type TestbedManager } from '../helpers/testbed';
import type { ClusterConfig, NodeConfig } from '../../src/core/config';
import { SessionPool } from '../../src/core/ssh/sessionPool';
import type { HostKeyInfo } from '../../src/core/ssh/nodeSession';
import { discoverCluster, type ClusterStatus, type ManagerStatus } from '../../src/core/docker/discovery';

const tb = loadTestbed();
const [m1, m2, m3] = tb.managers;
const port = tb.commonSshPort;
const dir = tempDir('discover-unconfigured-');
const pools: SessionPool[] = [];
afterEach(() => pools.splice(0).forEach((p) => p.closeAll()));

function newPool(options: ConstructorParameters<typeof SessionPool>[0] = {}): SessionPool {
  const p = new SessionPool(options);
  pools.push(p);
  return p;
}

/** manager1 on the common port: the only node of the configuration. */
function seed(overrides: Partial<NodeConfig> = {}): NodeConfig {
  return testNode(m1, dir, { port, dockerSocket: undefined, ...overrides }, tb);
}

function cluster(...nodes: NodeConfig[]): ClusterConfig {
  return { name: 'seeded', nodes };
}

/** The swarm's managers as manager1's dockerd tells them (not through our code). */
function swarmHostnames(): string[] {
  const out = execFileSync('docker', ['-H', `unix://${m1.dockerSocketPath}`, 'node', 'ls', '--filter', 'role=manager', '--format', '{{.Hostname}}'], { encoding: 'utf8' });
  return out.trim().split('\n').sort();
}

function byHostname(s: ClusterStatus): Record<string, ManagerStatus> {
  return Object.fromEntries(s.managers.map((m) => [m.hostname ?? m.name, m]));
}

/** `SHA256:…` of a manager's host key, as ssh-keygen prints it. */
function fingerprint(m: TestbedManager): string {
  return execFileSync('ssh-keygen', ['-lf', `${m.hostKeyFile}.pub`], { encoding: 'utf8' }).split(' ')[1];
}

/** A copy of the testbed known_hosts without the `[host]:port` line of one manager. */
function knownHostsWithout(m: TestbedManager): string {
  const file = join(tempDir('discover-kh-'), 'known_hosts');
  const lines = readFileSync(tb.ssh.knownHostsFile, 'utf8').split('\n');
  writeFileSync(file, lines.filter((l) => !l.startsWith(`[${m.host}]:${port} `)).join('\n'));
  execFileSync('ssh-keygen', ['-F', `[${m1.host}]:${port}`, '-f', file]); // the others stay known
  return file;
}

function assertReachedOk(m: ManagerStatus, tbm: TestbedManager): void {
  assert.equal(m.state, 'ok', `${tbm.name}: ${m.error}`);
  assert.equal(m.nodeId, tbm.swarmNodeId);
  assert.equal(m.address, tbm.host);
  assert.equal(m.ucp.version, tb.ucpVersion);
  assert.equal(m.ucp.namespace, 'docker');
}

test('nodes with only manager1 configured shows all three managers, each reached over its own SSH connection', async () => {
  const cfg = writeClustersConfig([cluster(seed())], dir);
  const r = await runCli(['nodes', '--config', cfg, '--json', '--verbose']);
  assert.equal(r.code, 0, r.stderr);
  const status = JSON.parse(r.stdout) as ClusterStatus;
  assert.deepEqual(status.managers.map((m) => m.hostname).sort(), swarmHostnames());
  assert.equal(status.managers.length, 3);
  assert.equal(status.ucpVersion, tb.ucpVersion);
  const byName = byHostname(status);
  for (const tbm of tb.managers) {
    const m = byName[tbm.hostname];
    assertReachedOk(m, tbm);
    // Reached at its swarm address, on the configured node's port, as the configured user.
    assert.equal(m.nodeConfig?.host, tbm.host);
    assert.equal(m.nodeConfig?.port, port);
    assert.equal(m.nodeConfig?.username, tb.ssh.username);
    assert.equal(m.discoveredVia, tbm === m1 ? undefined : m1.name);
    // --verbose logs each handshake: exactly one per manager, to its own address.
    const handshakes = r.stderr.split('\n').filter((l) => l.includes(`connected to ${tb.ssh.username}@${tbm.host}:${port} `));
    assert.equal(handshakes.length, 1, `${tbm.name}: ${r.stderr}`);
  }
  // The configured node first, then the discovered ones.
  assert.equal(status.managers[0].name, m1.name);
});

test('refreshing keeps one SSH connection per discovered manager, each from this process to <address>:<common port>', async () => {
  const pool = newPool();
  await discoverCluster(cluster(seed()), pool);
  const again = await discoverCluster(cluster(seed()), pool);
  for (const tbm of tb.managers) assertReachedOk(byHostname(again)[tbm.hostname], tbm);
  assert.equal(pool.all().length, 3);
  for (const s of pool.all()) assert.equal(s.handshakes, 1, `${s.name} handshakes`);
  for (const tbm of tb.managers) assert.ok(tcpClientPids(tbm.host, port).includes(process.pid), `a connection to ${tbm.host}:${port}`);
});

test('a discovered manager whose host key is unknown needs consent, like a configured one; the others are fine', async () => {
  const knownHostsFile = knownHostsWithout(m3);
  const before = readFileSync(knownHostsFile, 'utf8');
  const asked: HostKeyInfo[] = [];
  const pool = newPool({ confirmUnknownHostKey: async (info) => (asked.push(info), false) });
  const status = await discoverCluster(cluster(seed({ knownHostsFile })), pool);
  const byName = byHostname(status);
  assertReachedOk(byName[m1.hostname], m1);
  assertReachedOk(byName[m2.hostname], m2);
  const m = byName[m3.hostname];
  assert.equal(m.state, 'error');
  assert.equal(m.errorName, 'HostKeyUnknownError');
  assert.ok(m.error?.includes(fingerprint(m3)), m.error);
  assert.equal(m.nodeId, m3.swarmNodeId, 'still identified from the swarm');
  // Asked once, for manager3 at its swarm address, with the fingerprint ssh-keygen shows.
  assert.deepEqual(asked.map((a) => [a.host, a.port, a.fingerprint]), [[m3.host, port, fingerprint(m3)]]);
  assert.equal(readFileSync(knownHostsFile, 'utf8'), before, 'nothing recorded without consent');
});

test('nodes shows the unknown key of a discovered manager, and --accept-new-host-keys records it', async () => {
  const knownHostsFile = knownHostsWithout(m3);
  const cfg = writeClustersConfig([cluster(seed({ knownHostsFile }))], tempDir('discover-cli-'));
  const refused = await runCli(['nodes', '--config', cfg, '--json']);
  assert.equal(refused.code, 0, refused.stderr);
  const byName = byHostname(JSON.parse(refused.stdout) as ClusterStatus);
  assert.equal(byName[m3.hostname].errorName, 'HostKeyUnknownError');
  assert.equal(byName[m1.hostname].state, 'ok');
  assert.equal(byName[m2.hostname].state, 'ok');
  assert.throws(() => execFileSync('ssh-keygen', ['-F', `[${m3.host}]:${port}`, '-f', knownHostsFile]));

  const accepted = await runCli(['nodes', '--config', cfg, '--json', '--accept-new-host-keys']);
  assert.equal(accepted.code, 0, accepted.stderr);
  assertReachedOk(byHostname(JSON.parse(accepted.stdout) as ClusterStatus)[m3.hostname], m3);
  // OpenSSH now finds manager3's real key in the file the CLI appended to.
  const found = execFileSync('ssh-keygen', ['-F', `[${m3.host}]:${port}`, '-f', knownHostsFile], { encoding: 'utf8' });
  assert.ok(found.includes(m3.hostPublicKey.split(' ')[1]), found);
});

test("a manager's own configuration wins over the discovered endpoint, when it works and when it fails", async () => {
  const own: NodeConfig = { ...seed(), name: 'm3-own', host: m3.host, port: m3.sshPort };
  const ok = await discoverCluster(cluster(seed(), own), newPool());
  const okBy = byHostname(ok);
  assertReachedOk(okBy[m3.hostname], m3);
  assert.equal(okBy[m3.hostname].name, 'm3-own');
  assert.equal(okBy[m3.hostname].nodeConfig?.port, m3.sshPort);
  assert.equal(okBy[m3.hostname].discoveredVia, undefined);
  assert.equal(okBy[m2.hostname].nodeConfig?.port, port);
  assert.equal(okBy[m2.hostname].discoveredVia, m1.name);
  assert.deepEqual(ok.managers.map((m) => m.name), [m1.name, 'm3-own', m2.hostname]);

  // A configured node that fails keeps its failure: no silent fallback to the common port.
  const pool = newPool();
  const failing = await discoverCluster(cluster(seed(), { ...own, identityFile: tb.ssh.unknownIdentityFile }), pool);
  const m = byHostname(failing)[m3.hostname] ?? failing.managers.find((x) => x.name === 'm3-own')!;
  assert.equal(m.name, 'm3-own');
  assert.equal(m.errorName, 'AuthFailedError');
  assert.equal(m.nodeId, m3.swarmNodeId, 'matched to the swarm node by its address');
  assert.equal(failing.managers.length, 3);
  assert.deepEqual(pool.all().map((s) => `${s.endpoint.host}:${s.endpoint.port}`).sort(), [`${m1.host}:${port}`, `${m2.host}:${port}`, `${m3.host}:${m3.sshPort}`]);
});

test('discovered managers that do not listen on the configured port show as unreachable, with what was tried', async () => {
  // manager1 on its own port 2201: the others listen on 220N, not 2201, at their addresses.
  const status = await discoverCluster(cluster(seed({ port: m1.sshPort })), newPool());
  const byName = byHostname(status);
  assertReachedOk(byName[m1.hostname], m1);
  for (const tbm of [m2, m3]) {
    const m = byName[tbm.hostname];
    assert.equal(m.state, 'unreachable', m.error);
    assert.equal(m.errorName, 'ConnectError');
    assert.equal(m.nodeId, tbm.swarmNodeId);
    assert.notEqual(m.reachability, 'unreachable', 'the swarm itself still reaches it');
    assert.ok(m.error?.includes(`tried at ${tb.ssh.username}@${tbm.host}:${m1.sshPort} with the SSH settings of ${m1.name}`), m.error);
    assert.match(m.error ?? '', /connection refused/);
  }
});

/** Until the connections of earlier tests from this process to the managers are gone. */
async function noDirectConnections(): Promise<void> {
  for (let i = 0; tb.managers.some((m) => tcpClientPids(m.host, port).includes(process.pid)); i++) {
    if (i > 100) throw new Error('connections of earlier tests to the managers did not close');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('discovered managers go through the same ProxyJump bastion as the configured one', async () => {
  await noDirectConnections();
  const pool = newPool();
  const status = await discoverCluster(cluster(seed({ proxyJump: tb.bastion.proxyJump })), pool);
  const bastion = Number(readFileSync(tb.bastion.sshdPidFile, 'utf8'));
  for (const tbm of tb.managers) {
    const m = byHostname(status)[tbm.hostname];
    assertReachedOk(m, tbm);
    assert.equal(m.nodeConfig?.proxyJump, tb.bastion.proxyJump);
    // The TCP connection to the manager's sshd is the bastion's, never this process's.
    const owners = tcpClientPids(tbm.host, port);
    assert.ok(owners.length > 0 && owners.every((pid) => pid !== process.pid), `${tbm.name} owners: ${owners.join(',')}`);
    assert.ok(owners.some((pid) => descendsFrom(pid, bastion)), `${tbm.name}: a bastion sshd process connected`);
  }
  for (const s of pool.all()) assert.deepEqual([s.handshakes, s.jumpHandshakes], [1, 1], s.name);
});

test('a manager configured through a ~/.ssh/config alias passes the alias settings on to the discovered ones', async () => {
  const sshConfigFile = join(tempDir('discover-alias-'), 'config');
  writeFileSync(
    sshConfigFile,
    `Host mgr1\n  HostName ${m1.host}\n  Port ${port}\n  User ${tb.ssh.username}\n  IdentityFile ${tb.ssh.identityFile}\n` +
      `  IdentitiesOnly yes\n  UserKnownHostsFile ${tb.ssh.knownHostsFile}\n`,
  );
  const status = await discoverCluster(cluster({ name: m1.name, host: 'mgr1', sshConfigFile }), newPool());
  for (const tbm of tb.managers) assertReachedOk(byHostname(status)[tbm.hostname], tbm);
  const m = byHostname(status)[m2.hostname];
  assert.deepEqual(
    { host: m.nodeConfig?.host, port: m.nodeConfig?.port, username: m.nodeConfig?.username, identityFile: m.nodeConfig?.identityFile,
      useAgent: m.nodeConfig?.useAgent, knownHostsFile: m.nodeConfig?.knownHostsFile },
    { host: m2.host, port, username: tb.ssh.username, identityFile: tb.ssh.identityFile, useAgent: false, knownHostsFile: tb.ssh.knownHostsFile },
  );
});

test('a discovered manager whose sshd does not answer is shown unreachable after the connect timeout, the others are fine', async () => {
  // Freeze manager3's sshd listener: TCP connects still land in its backlog, no SSH banner comes.
  const listener = Number(readFileSync(m3.sshdPidFile, 'utf8'));
  const pool = newPool({ connectTimeoutMs: 2_000 });
  let status: ClusterStatus;
  process.kill(listener, 'SIGSTOP');
  try {
    status = await discoverCluster(cluster(seed()), pool);
  } finally {
    process.kill(listener, 'SIGCONT');
  }
  const byName = byHostname(status);
  assertReachedOk(byName[m1.hostname], m1);
  assertReachedOk(byName[m2.hostname], m2);
  const m = byName[m3.hostname];
  assert.equal(m.state, 'unreachable', m.error);
  assert.equal(m.errorName, 'ConnectError');
  assert.match(m.error ?? '', /no SSH handshake within 2 s/);
  assert.equal(m.nodeId, m3.swarmNodeId);
});
