/**
 * The SSH transport of Docker calls, both ways on the real sshd: 'builtin' (ssh2 channels) and
 * 'openssh' (the OpenSSH client forwards the Docker socket, opensshForward.ts) give the same
 * bytes for a volume archive; 'auto' uses ssh when it can and ssh2 when ssh is missing or
 * cannot log in without a prompt; 'openssh' then fails in words.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { loadTestbed, tempDir, testNode } from '../helpers/testbed';
import { NodeSession, type SessionOptions } from '../../src/core/ssh/nodeSession';
import type { NodeConfig } from '../../src/core/config';
import { ConnectError } from '../../src/core/ssh/errors';
import { inspectUcpNode } from '../../src/core/engine/ucpNode';
import { pickHelperImage } from '../../src/core/engine/helperImage';
import { createVolumeReader } from '../../src/core/engine/volumeEntries';
import { removeQuietly } from '../../src/core/engine/dockerStreams';

const tb = loadTestbed();
const m1 = tb.managers[0];
const dir = tempDir('ucp-transport-');
const sessions: NodeSession[] = [];
after(() => sessions.forEach((s) => s.close()));
const session = (opts: SessionOptions, over: Partial<NodeConfig> = {}) => {
  const s = new NodeSession(testNode(m1, dir, over, tb), opts);
  sessions.push(s);
  return s;
};

async function sha(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    h.update(c);
    bytes += c.length;
  }
  return { sha256: h.digest('hex'), bytes };
}

test('openssh and builtin transports read the same volume archive byte for byte', async () => {
  const builtin = session({ transport: 'builtin' });
  const openssh = session({ transport: 'openssh' });
  const d1 = await builtin.docker();
  const d2 = await openssh.docker();
  assert.match(openssh.transportInUse, /^openssh/);
  assert.equal(builtin.transportInUse, 'builtin');
  const node = await inspectUcpNode(d1, m1.name);
  const runId = randomUUID();
  const reader = await createVolumeReader(d1, ['ucp-client-root-ca'], { image: await pickHelperImage(d1, node, runId, false), runId, selinux: node.selinux }, 'transport-test');
  try {
    const path = { path: '/ucp-client-root-ca/.' };
    const a = await sha((await d1.getContainer(reader.id).getArchive(path)) as unknown as Readable);
    const b = await sha((await d2.getContainer(reader.id).getArchive(path)) as unknown as Readable);
    assert.ok(a.bytes > 1024, `archive of ${a.bytes} bytes`);
    assert.deepEqual(b, a);
  } finally {
    await removeQuietly(reader);
  }
  // The openssh session's Docker calls really went through ssh's forward, the builtin's never.
  assert.ok(openssh.forwardedConnections > 0);
  assert.equal(builtin.forwardedConnections, 0);
  // Both made their own ssh2 connection first (host key check, diagnostics).
  assert.deepEqual([builtin.handshakes, openssh.handshakes], [1, 1]);
});

test('auto without an OpenSSH client on PATH uses the built-in client', async () => {
  const path = process.env.PATH;
  process.env.PATH = tempDir('ucp-nossh-'); // an empty folder: no ssh
  try {
    const s = session({ transport: 'auto' });
    assert.equal((await (await s.docker()).ping()).toString(), 'OK');
    assert.equal(s.transportInUse, 'builtin (auto: no ssh on PATH)');
    assert.equal(s.forwardedConnections, 0);
  } finally {
    process.env.PATH = path;
  }
});

test('a key ssh cannot use without a prompt: auto falls back to ssh2, openssh fails in words', async () => {
  // ssh2 gets the key's passphrase from us; ssh runs in BatchMode and never asks for one.
  const over = { identityFile: tb.ssh.encryptedIdentityFile };
  const keyPassphrase = async () => tb.ssh.encryptedIdentityPassphrase;
  const auto = session({ transport: 'auto', keyPassphrase }, over);
  assert.equal((await (await auto.docker()).ping()).toString(), 'OK');
  assert.equal(auto.transportInUse, 'builtin (auto: ssh failed)');
  const strict = session({ transport: 'openssh', keyPassphrase }, over);
  await assert.rejects(strict.docker(), (err: Error) => err instanceof ConnectError && /ssh could not forward the Docker socket: .*(Permission denied|passphrase)/i.test(err.message));
});

test('closing the session stops ssh and removes its local socket', async () => {
  const s = session({ transport: 'openssh' });
  await (await s.docker()).ping();
  const sock = (s as unknown as { forward: { socketPath: string } }).forward.socketPath;
  assert.ok(existsSync(sock));
  s.close();
  assert.equal(existsSync(sock), false);
});
