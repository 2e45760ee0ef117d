/**
 * Host keys are checked as OpenSSH checks them: an unknown key is refused unless someone
 * accepts its SHA256 fingerprint (then it is recorded), and a changed key is always refused
 * — here a manager's sshd really restarts with a new host key.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTestbed, rekeySshd, restoreSshdKey, testNode } from '../helpers/testbed';
import type { NodeConfig } from '../../src/core/config';
import { NodeSession, type HostKeyInfo, type SessionOptions } from '../../src/core/ssh/nodeSession';
import { HostKeyChangedError, HostKeyUnknownError } from '../../src/core/ssh/errors';

const tb = loadTestbed();
const [m1, m2, m3] = tb.managers;
const dir = mkdtempSync(join(tmpdir(), 'connect-hostkeys-'));
const sessions: NodeSession[] = [];
after(() => sessions.forEach((s) => s.close()));

function node(m: (typeof tb.managers)[number], knownHostsFile: string, overrides: Partial<NodeConfig> = {}): NodeConfig {
  return testNode(m, dir, { knownHostsFile, ...overrides }, tb);
}

function session(n: NodeConfig, opts: SessionOptions = {}): NodeSession {
  const s = new NodeSession(n, opts);
  sessions.push(s);
  return s;
}

function emptyKnownHosts(name: string): string {
  const f = join(dir, name);
  writeFileSync(f, '');
  return f;
}

/** What `ssh-keygen -l` prints for the node's real host key. */
function fingerprintOfHostKey(pubKeyFile: string): string {
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubKeyFile], { encoding: 'utf8' }).split(' ')[1];
}

test('an unknown host key is refused when nobody is asked, and nothing is recorded', async () => {
  const kh = emptyKnownHosts('kh-refuse');
  const s = session(node(m1, kh));
  await assert.rejects(s.docker(), (err: Error) => {
    assert.ok(err instanceof HostKeyUnknownError, String(err));
    assert.ok(err.message.includes(fingerprintOfHostKey(m1.hostKeyFile + '.pub')), err.message);
    return true;
  });
  assert.equal(readFileSync(kh, 'utf8'), '');
  assert.equal(s.handshakes, 0);
});

test('an unknown host key declined in the prompt is refused', async () => {
  const kh = emptyKnownHosts('kh-decline');
  const prompts: HostKeyInfo[] = [];
  const s = session(node(m1, kh), { confirmUnknownHostKey: async (info) => (prompts.push(info), false) });
  await assert.rejects(s.docker(), HostKeyUnknownError);
  assert.equal(prompts.length, 1);
  assert.equal(readFileSync(kh, 'utf8'), '');
});

test('an accepted host key shows the OpenSSH fingerprint, is recorded, and is not asked again', async () => {
  const kh = emptyKnownHosts('kh-accept');
  const prompts: HostKeyInfo[] = [];
  const ask = async (info: HostKeyInfo) => (prompts.push(info), true);
  const first = session(node(m2, kh), { confirmUnknownHostKey: ask });
  assert.equal((await (await first.docker()).info()).Swarm.NodeID, m2.swarmNodeId);
  assert.deepEqual(prompts.map((p) => [p.host, p.port, p.keyType, p.fingerprint]), [
    [m2.host, m2.sshPort, 'ssh-ed25519', fingerprintOfHostKey(m2.hostKeyFile + '.pub')],
  ]);
  // OpenSSH itself now finds the host in the file we appended to.
  execFileSync('ssh-keygen', ['-F', `[${m2.host}]:${m2.sshPort}`, '-f', kh]);
  const second = session(node(m2, kh), { confirmUnknownHostKey: ask });
  await (await second.docker()).ping();
  assert.equal(prompts.length, 1);
});

test('--accept-new-host-keys records an unknown key without a prompt', async () => {
  const kh = emptyKnownHosts('kh-flag');
  const s = session(node(m1, kh), { acceptUnknownHostKeys: true });
  await (await s.docker()).ping();
  assert.match(readFileSync(kh, 'utf8'), new RegExp(`^\\[${m1.host.replace(/\./g, '\\.')}\\]:${m1.sshPort} ssh-ed25519 `));
});

test('a known_hosts hashed by ssh-keygen -H is honoured without a prompt', async () => {
  const kh = join(dir, 'kh-hashed');
  copyFileSync(tb.ssh.knownHostsFile, kh);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', kh]);
  assert.doesNotMatch(readFileSync(kh, 'utf8'), /127\.0\.0\./, 'names are hashed');
  const s = session(node(m2, kh)); // no confirm callback: an unknown key would be refused
  assert.equal((await (await s.docker()).info()).Swarm.NodeID, m2.swarmNodeId);
});

test('a changed host key is refused with the line to remove, even with --accept-new-host-keys', async () => {
  const kh = join(dir, 'kh-changed');
  copyFileSync(tb.ssh.knownHostsFile, kh);
  await rekeySshd(m3.name);
  try {
    const prompts: HostKeyInfo[] = [];
    const s = session(node(m3, kh), { acceptUnknownHostKeys: true, confirmUnknownHostKey: async (i) => (prompts.push(i), true) });
    await assert.rejects(s.docker(), (err: Error) => {
      assert.ok(err instanceof HostKeyChangedError, String(err));
      assert.match(err.message, /has changed/);
      assert.match(err.hint ?? '', /ssh-keygen -R/);
      assert.ok(err.hint?.includes(kh));
      return true;
    });
    assert.equal(prompts.length, 0, 'a changed key is never offered for acceptance');
    assert.equal(readFileSync(kh, 'utf8'), readFileSync(tb.ssh.knownHostsFile, 'utf8'), 'known_hosts untouched');
  } finally {
    await restoreSshdKey(m3.name);
  }
  // With the original key back, the same known_hosts works again.
  const s = session(node(m3, kh));
  await (await s.docker()).ping();
});
