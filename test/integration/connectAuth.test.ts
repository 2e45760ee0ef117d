/**
 * An admin reaches a manager the ways OpenSSH users do — identity file (also a passphrase-
 * protected one), ssh-agent, an ~/.ssh/config alias, a jump host — over one SSH connection,
 * through the real sshd of the test cluster to its real dockerd.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendsFrom, loadTestbed, tcpClientPids, testNode } from '../helpers/testbed';
import type { NodeConfig } from '../../src/core/config';
import { NodeSession } from '../../src/core/ssh/nodeSession';
import { AuthFailedError } from '../../src/core/ssh/errors';

const tb = loadTestbed();
const m1 = tb.managers[0];
const dir = mkdtempSync(join(tmpdir(), 'connect-auth-'));
const sessions: NodeSession[] = [];
after(() => sessions.forEach((s) => s.close()));

function node(overrides: Partial<NodeConfig> = {}): NodeConfig {
  // useAgent unset: the agent tests rely on ssh's own default (agent when no key is given).
  return testNode(m1, dir, { useAgent: undefined, ...overrides }, tb);
}

function session(n: NodeConfig, opts: ConstructorParameters<typeof NodeSession>[1] = {}): NodeSession {
  const s = new NodeSession(n, opts);
  sessions.push(s);
  return s;
}

/** The swarm node ID the dockerd behind this session reports: proves we reached that node. */
async function nodeIdVia(s: NodeSession): Promise<string> {
  const info = await (await s.docker()).info();
  return info.Swarm.NodeID;
}

test('an identity file reaches the manager\'s dockerd over one SSH connection', async () => {
  const s = session(node());
  assert.equal(await nodeIdVia(s), m1.swarmNodeId);
  await (await s.docker()).listContainers();
  await (await s.docker()).ping();
  assert.equal(s.handshakes, 1);
  assert.equal(s.authMethod, `publickey:${tb.ssh.identityFile}`);
});

test('a passphrase-protected key asks for its passphrase once per session, reconnects included', async () => {
  const asked: string[] = [];
  const s = session(node({ identityFile: tb.ssh.encryptedIdentityFile, useAgent: false }), {
    keyPassphrase: async (file) => {
      asked.push(file);
      return tb.ssh.encryptedIdentityPassphrase;
    },
  });
  assert.equal(await nodeIdVia(s), m1.swarmNodeId);
  // Drop the connection under the session: the next call reconnects with the cached key.
  (s as unknown as { client: { end(): void } }).client.end();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await nodeIdVia(s), m1.swarmNodeId);
  assert.equal(s.handshakes, 2);
  assert.deepEqual(asked, [tb.ssh.encryptedIdentityFile]);
});

test('a wrong passphrase is an authentication error that names the key', async () => {
  const s = session(node({ identityFile: tb.ssh.encryptedIdentityFile, useAgent: false }), { keyPassphrase: async () => 'not-the-passphrase' });
  await assert.rejects(s.docker(), (err: Error) => err instanceof AuthFailedError && err.message.includes('wrong passphrase') && err.message.includes(tb.ssh.encryptedIdentityFile));
});

test('keys in a real ssh-agent authenticate when no identity file is configured', async () => {
  const agentDir = mkdtempSync(join(tmpdir(), 'agent-'));
  const sock = join(agentDir, 'agent.sock');
  const agent = spawnSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
  assert.ok(pid > 0, agent.stdout + agent.stderr);
  const saved = process.env.SSH_AUTH_SOCK;
  try {
    execFileSync('ssh-add', [tb.ssh.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' });
    process.env.SSH_AUTH_SOCK = sock;
    const s = session(node({ identityFile: undefined, useAgent: true }));
    assert.equal(await nodeIdVia(s), m1.swarmNodeId);
    assert.equal(s.authMethod, 'agent');
    assert.equal(s.handshakes, 1);
  } finally {
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
    process.kill(pid);
  }
});

test('a Host alias from an SSH config file supplies HostName, User, Port and IdentityFile', async () => {
  const config = join(dir, 'ssh_config');
  writeFileSync(
    config,
    `Host prod-mgr2\n  HostName ${tb.managers[1].host}\n  Port ${tb.managers[1].sshPort}\n  User ${tb.ssh.username}\n  IdentityFile ${tb.ssh.identityFile}\n  UserKnownHostsFile ${tb.ssh.knownHostsFile}\n`,
  );
  const s = session({ name: 'prod-mgr2', host: 'prod-mgr2', sshConfigFile: config, useAgent: false });
  assert.equal(await nodeIdVia(s), tb.managers[1].swarmNodeId);
});

test('a ProxyJump bastion tunnels to the manager: the TCP connection to its sshd comes from the bastion', async () => {
  const m3 = tb.managers[2];
  const s = session(node({ name: m3.name, host: m3.host, port: m3.sshPort, proxyJump: tb.bastion.proxyJump }));
  assert.equal(await nodeIdVia(s), m3.swarmNodeId);
  assert.equal(s.handshakes, 1);
  assert.equal(s.jumpHandshakes, 1);
  // Who holds a TCP connection to manager3's sshd now: the bastion's sshd, never this process.
  const bastionListener = Number(readFileSync(tb.bastion.sshdPidFile, 'utf8'));
  const owners = tcpClientPids(m3.host, m3.sshPort);
  assert.ok(!owners.includes(process.pid), 'the client did not connect to the manager directly');
  assert.ok(owners.some((pid) => descendsFrom(pid, bastionListener)), `a bastion sshd process connected (owners: ${owners.join(',')})`);
});

test('a ProxyJump alias in the SSH config is followed too', async () => {
  const config = join(dir, 'ssh_config_jump');
  writeFileSync(
    config,
    `Host bastion\n  HostName ${tb.bastion.host}\n  Port ${tb.bastion.port}\n  User root\n\nHost mgr2\n  HostName ${tb.managers[1].host}\n  Port ${tb.managers[1].sshPort}\n  User root\n  ProxyJump bastion\n`,
  );
  const s = session({ name: 'mgr2', host: 'mgr2', sshConfigFile: config, identityFile: tb.ssh.identityFile, knownHostsFile: tb.ssh.knownHostsFile });
  assert.equal(await nodeIdVia(s), tb.managers[1].swarmNodeId);
  assert.equal(s.jumpHandshakes, 1);
});

test('a wrong user is refused with an authentication error that says what to check', async () => {
  const s = session(node({ username: 'nosuchuser' }));
  await assert.rejects(s.docker(), (err: Error) => {
    assert.ok(err instanceof AuthFailedError, String(err));
    assert.match(err.message, /nosuchuser/);
    assert.ok(err.message.includes(`tried publickey:${tb.ssh.identityFile}`), err.message);
    assert.match(err.hint ?? '', /authorized_keys/);
    return true;
  });
});

test('a key the node does not know is refused with an authentication error', async () => {
  const s = session(node({ identityFile: tb.ssh.unknownIdentityFile, useAgent: false }));
  await assert.rejects(s.docker(), AuthFailedError);
});
