/**
 * When a manager can't be reached, the admin is told which part failed and what to do:
 * nothing listening, a server that never answers, a Docker socket path that is wrong, or a
 * user who may not use the Docker socket.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNoDockerUser, loadTestbed, testNode } from '../helpers/testbed';
import type { NodeConfig } from '../../src/core/config';
import { NodeSession } from '../../src/core/ssh/nodeSession';
import { ConnectError, DockerSocketNotFoundError, DockerSocketPermissionError } from '../../src/core/ssh/errors';

const tb = loadTestbed();
const m1 = tb.managers[0];
const dir = mkdtempSync(join(tmpdir(), 'connect-fail-'));
const sessions: NodeSession[] = [];
after(() => sessions.forEach((s) => s.close()));

function session(overrides: Partial<NodeConfig>, connectTimeoutMs?: number): NodeSession {
  const s = new NodeSession(
    testNode(m1, dir, overrides, tb),
    { connectTimeoutMs },
  );
  sessions.push(s);
  return s;
}

test('no sshd on the port: "connection refused" with a hint to check sshd, host and port', async () => {
  // Bind then close a port: nothing listens there afterwards.
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  const s = session({ host: '127.0.0.1', port });
  await assert.rejects(s.docker(), (err: Error) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.reason, 'refused');
    assert.match(err.hint ?? '', /sshd/);
    return true;
  });
});

test('a server that accepts but never speaks SSH: a timeout, not a hang', async () => {
  const held: Socket[] = [];
  const silent = createServer((c) => held.push(c)).listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  try {
    const s = session({ host: '127.0.0.1', port: (silent.address() as { port: number }).port }, 1500);
    await assert.rejects(s.docker(), (err: Error) => err instanceof ConnectError && err.reason === 'timeout');
  } finally {
    held.forEach((c) => c.destroy());
    silent.close();
  }
});

test('a wrong Docker socket path names the path and says to check dockerSocket', async () => {
  const s = session({ dockerSocket: '/var/run/no-docker-here.sock' });
  const docker = await s.docker();
  await assert.rejects(docker.ping(), (err: Error) => {
    assert.ok(err instanceof DockerSocketNotFoundError, String(err));
    assert.match(err.message, /\/var\/run\/no-docker-here\.sock/);
    assert.match(err.message, /no such file/);
    assert.match(err.hint ?? '', /dockerSocket/);
    return true;
  });
  // The SSH connection itself is fine and stays the only one.
  assert.deepEqual((await s.exec('hostname')).stdout.trim(), m1.hostname);
  assert.equal(s.handshakes, 1);
});

test('a path that is not a socket is reported as such', async () => {
  const s = session({ dockerSocket: '/etc/hostname' });
  await assert.rejects(s.openSocketStream(), (err: Error) => err instanceof DockerSocketNotFoundError && /not a socket/.test(err.message));
});

test('a user outside the docker group: permission denied, with the usermod hint', async () => {
  const user = await ensureNoDockerUser();
  const s = session({ username: user });
  const docker = await s.docker(); // SSH itself works for this user
  await assert.rejects(docker.ping(), (err: Error) => {
    assert.ok(err instanceof DockerSocketPermissionError, String(err));
    assert.match(err.message, new RegExp(`"${user}".*permission denied`));
    assert.match(err.hint ?? '', new RegExp(`usermod -aG docker ${user}`));
    return true;
  });
  // The reference: the node itself says this user is not in the docker group.
  assert.doesNotMatch((await s.exec('id -Gn')).stdout, /\bdocker\b/);
});
