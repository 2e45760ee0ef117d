/** Add Cluster imports SSH destinations from ~/.ssh/config hosts and ssh:// Docker contexts (issue 15, item 10). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerContextTargets, sshConfigAliases } from '../../src/vscode/flows/sshTargets';

test('~/.ssh/config: the Host names of one host each, patterns and duplicates left out', () => {
  const text = ['Host *', '  ServerAliveInterval 30', 'Host mgr1 mgr2.prod', '  HostName 10.0.0.1', 'host=bastion', 'Host !bad web-?', 'Match host x', 'Host mgr1', ''].join('\n');
  assert.deepEqual(sshConfigAliases(text), ['mgr1', 'mgr2.prod', 'bastion']);
});

test('docker context ls: ssh:// endpoints as user@host:port, other endpoints and junk skipped', () => {
  const out = [
    JSON.stringify({ Name: 'default', DockerEndpoint: 'unix:///var/run/docker.sock' }),
    JSON.stringify({ Name: 'prod', DockerEndpoint: 'ssh://admin@ucp-mgr1.example.com:2222' }),
    JSON.stringify({ Name: 'lab', DockerEndpoint: 'ssh://lab-mgr' }),
    JSON.stringify({ Name: 'v6', DockerEndpoint: 'ssh://root@[fd00::1]:22' }),
    'not json',
    JSON.stringify({ Name: 'tcp', DockerEndpoint: 'tcp://1.2.3.4:2376' }),
  ].join('\n');
  assert.deepEqual(dockerContextTargets(out), [
    { target: 'admin@ucp-mgr1.example.com:2222', source: 'docker context prod' },
    { target: 'lab-mgr', source: 'docker context lab' },
    { target: 'root@[fd00::1]:22', source: 'docker context v6' },
  ]);
});
