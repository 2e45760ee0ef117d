/**
 * A node written as an ~/.ssh/config alias resolves to what `ssh -G` would use: HostName,
 * User, Port, IdentityFile and ProxyJump, with explicit cluster settings taking precedence.
 * `ssh -G` (the real OpenSSH client) is the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveNode } from '../../src/core/ssh/sshConfig';
import { ConfigError } from '../../src/core/errors';

const dir = mkdtempSync(join(tmpdir(), 'sshconfig-'));
const configFile = join(dir, 'config');
writeFileSync(
  configFile,
  `Host bastion
  HostName 127.0.0.10
  Port 2210
  User jumper
  IdentityFile ${dir}/bastion_key

Host mgr1
  HostName 127.0.0.1
  Port 2201
  User root
  IdentityFile ${dir}/id_test
  ProxyJump bastion

Host mgr*
  User ignored-because-first-match-wins
  Port 9999

Host *
  UserKnownHostsFile ${dir}/known_hosts
`,
);

/** `ssh -G` prints the effective configuration, lowercase keys. */
function sshG(alias: string): Record<string, string> {
  const out = execFileSync('ssh', ['-G', '-F', configFile, alias], { encoding: 'utf8' });
  const r: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0 && !(line.slice(0, i) in r)) r[line.slice(0, i)] = line.slice(i + 1);
  }
  return r;
}

test('an alias resolves to the HostName, User, Port, IdentityFile and ProxyJump ssh would use', () => {
  const ep = resolveNode({ name: 'm1', host: 'mgr1', sshConfigFile: configFile });
  const g = sshG('mgr1');
  assert.equal(ep.host, g.hostname);
  assert.equal(String(ep.port), g.port);
  assert.equal(ep.username, g.user);
  assert.equal(ep.identityFiles[0], g.identityfile);
  assert.equal(g.proxyjump, 'bastion');
  assert.equal(ep.knownHostsFile, g.userknownhostsfile.split(' ')[0]);
  assert.equal(ep.jumps.length, 1);
  const jump = ep.jumps[0];
  const gj = sshG('bastion');
  assert.deepEqual([jump.host, String(jump.port), jump.username, jump.identityFiles[0]], [gj.hostname, gj.port, gj.user, gj.identityfile]);
});

test('settings in the cluster configuration override the SSH config, as ssh options do', () => {
  const ep = resolveNode({ name: 'm1', host: 'mgr1', sshConfigFile: configFile, port: 2222, username: 'admin', identityFile: '/keys/k', proxyJump: 'none' });
  assert.deepEqual([ep.host, ep.port, ep.username, ep.identityFiles], ['127.0.0.1', 2222, 'admin', ['/keys/k']]);
  assert.equal(ep.jumps.length, 0, 'ProxyJump none disables the jump');
});

test('a ProxyJump given as user@host:port that is no alias inherits the node key and known_hosts', () => {
  const empty = join(dir, 'empty-config');
  writeFileSync(empty, '');
  const ep = resolveNode({ name: 'x', host: '127.0.0.5', port: 2205, username: 'root', identityFile: '/keys/k', knownHostsFile: '/kh', proxyJump: 'root@127.0.0.10:2210', sshConfigFile: empty });
  assert.equal(ep.jumps.length, 1);
  const j = ep.jumps[0];
  assert.deepEqual([j.host, j.port, j.username, j.identityFiles, j.knownHostsFile], ['127.0.0.10', 2210, 'root', ['/keys/k'], '/kh']);
});

test('a host that is no alias keeps its name and gets port 22', () => {
  const ep = resolveNode({ name: 'plain', host: 'node.example.com', username: 'u', sshConfigFile: configFile });
  assert.deepEqual([ep.host, ep.port, ep.dockerSocket], ['node.example.com', 22, '/var/run/docker.sock']);
});

test('a configured SSH config file that does not exist is a configuration error, as with ssh -F', () => {
  const missing = join(dir, 'no-such-config');
  // The reference: OpenSSH refuses a missing -F file too.
  assert.notEqual(spawnSync('ssh', ['-G', '-F', missing, 'mgr1']).status, 0);
  assert.throws(
    () => resolveNode({ name: 'm1', host: 'mgr1', sshConfigFile: missing }),
    (err: Error) => err instanceof ConfigError && err.message.includes(missing) && /sshConfigFile/.test((err as ConfigError).hint ?? ''),
  );
});
