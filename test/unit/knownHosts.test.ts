/**
 * known_hosts is read the way OpenSSH reads it: checked against files written and hashed by
 * the real `ssh-keygen`, with `ssh-keygen -F` and `-l` as the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendKnownHost,
  checkHostKey,
  fingerprintOf,
  hostMatches,
  knownKeyTypes,
  parseKnownHosts,
} from '../../src/core/ssh/knownHosts';

const dir = mkdtempSync(join(tmpdir(), 'knownhosts-'));

function hostKey(name: string, type: string): { blob: Buffer; pub: string; file: string } {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
  const pub = readFileSync(file + '.pub', 'utf8').trim();
  return { blob: Buffer.from(pub.split(' ')[1], 'base64'), pub: pub.split(' ').slice(0, 2).join(' '), file };
}

const m1 = hostKey('m1', 'ed25519');
const m2 = hostKey('m2', 'ecdsa');
const m3 = hostKey('m3', 'rsa');
const other = hostKey('other', 'ed25519');

/** Does OpenSSH find `name` in `file`? (`ssh-keygen -F` exits 0 when it does.) */
function sshKeygenFinds(file: string, name: string): boolean {
  return spawnSync('ssh-keygen', ['-F', name, '-f', file]).status === 0;
}

function writeKnownHosts(lines: string[], hashed: boolean): string {
  const file = join(dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, lines.join('\n') + '\n');
  if (hashed) execFileSync('ssh-keygen', ['-q', '-H', '-f', file]);
  return file;
}

const lines = [
  '# a comment, then entries as ssh writes them',
  `manager1 ${m1.pub}`,
  `[127.0.0.2]:2202 ${m2.pub}`,
  `[127.0.0.3]:2203,manager3 ${m3.pub}`,
];

for (const hashed of [false, true]) {
  const label = hashed ? 'hashed by ssh-keygen -H' : 'plain';

  test(`a ${label} known_hosts recognises the recorded keys, like ssh-keygen -F`, () => {
    const file = writeKnownHosts(lines, hashed);
    const text = readFileSync(file, 'utf8');
    if (hashed) assert.match(text, /^\|1\|/m, 'ssh-keygen -H really hashed the names');
    const entries = parseKnownHosts(text);
    assert.equal(checkHostKey(entries, 'manager1', 22, m1.blob).status, 'known');
    assert.equal(checkHostKey(entries, '127.0.0.2', 2202, m2.blob).status, 'known');
    assert.equal(checkHostKey(entries, '127.0.0.3', 2203, m3.blob).status, 'known');
    assert.equal(checkHostKey(entries, 'manager3', 22, m3.blob).status, 'known');
    for (const name of ['manager1', '[127.0.0.2]:2202', '[127.0.0.3]:2203', 'manager3', '127.0.0.2', '[manager1]:2201']) {
      const [host, port] = name.startsWith('[') ? [name.slice(1, name.indexOf(']')), Number(name.split(':').pop())] : [name, 22];
      const ours = parseKnownHosts(text).some((e) => hostMatches(e.hosts, port === 22 ? host : `[${host}]:${port}`));
      assert.equal(ours, sshKeygenFinds(file, name), `lookup of ${name} agrees with ssh-keygen -F`);
    }
  });

  test(`a ${label} known_hosts reports a different key of the same type as changed`, () => {
    const file = writeKnownHosts(lines, hashed);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'));
    const r = checkHostKey(entries, 'manager1', 22, other.blob);
    assert.equal(r.status, 'changed');
    // ssh-keygen -F prints "# Host manager1 found: line N": the line the admin must remove.
    const found = /found: line (\d+)/.exec(execFileSync('ssh-keygen', ['-F', 'manager1', '-f', file], { encoding: 'utf8' }));
    assert.equal(r.status === 'changed' && r.entry.line, Number(found?.[1]), 'names the line ssh-keygen names');
  });

  test(`a ${label} known_hosts treats another port of the same host as unknown`, () => {
    const entries = parseKnownHosts(readFileSync(writeKnownHosts(lines, hashed), 'utf8'));
    assert.equal(checkHostKey(entries, '127.0.0.2', 22, m2.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, '127.0.0.2', 2203, m2.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, 'manager9', 22, m1.blob).status, 'unknown');
  });
}

test('a key of a type not yet recorded for the host is unknown, not changed (as in ssh)', () => {
  const entries = parseKnownHosts(`manager1 ${m1.pub}\n`);
  const r = checkHostKey(entries, 'manager1', 22, m2.blob);
  assert.deepEqual(r, { status: 'unknown', otherTypes: ['ssh-ed25519'] });
  assert.deepEqual(knownKeyTypes(entries, 'manager1', 22), ['ssh-ed25519']);
});

test('wildcards and negations follow sshd(8) patterns', () => {
  const entries = parseKnownHosts(`*.example.com,!bad.example.com ${m1.pub}\n192.168.1.? ${m2.pub}\n`);
  assert.equal(checkHostKey(entries, 'mgr.example.com', 22, m1.blob).status, 'known');
  assert.equal(checkHostKey(entries, 'bad.example.com', 22, m1.blob).status, 'unknown');
  assert.equal(checkHostKey(entries, '192.168.1.7', 22, m2.blob).status, 'known');
  assert.equal(checkHostKey(entries, '192.168.1.70', 22, m2.blob).status, 'unknown');
});

test('a key marked @revoked is refused even when also listed as valid', () => {
  const entries = parseKnownHosts(`@revoked * ${m1.pub}\nmanager1 ${m1.pub}\n@cert-authority *.example.com ${m2.pub}\n`);
  assert.equal(checkHostKey(entries, 'manager1', 22, m1.blob).status, 'revoked');
  assert.equal(checkHostKey(entries, 'x.example.com', 22, m2.blob).status, 'unknown', 'a CA key is not a host key');
});

test('fingerprints read like ssh-keygen -l', () => {
  for (const k of [m1, m2, m3]) {
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k.file + '.pub'], { encoding: 'utf8' });
    assert.equal(fingerprintOf(k.blob), out.split(' ')[1]);
  }
});

test('an accepted key is appended so that ssh itself then knows the host', async () => {
  const file = join(dir, 'appended');
  writeFileSync(file, `manager1 ${m1.pub}`); // hand-edited: no final newline
  await appendKnownHost(file, '127.0.0.3', 2203, m3.blob);
  await appendKnownHost(file, 'manager2', 22, m2.blob);
  assert.ok(sshKeygenFinds(file, '[127.0.0.3]:2203'));
  assert.ok(sshKeygenFinds(file, 'manager2'));
  assert.ok(sshKeygenFinds(file, 'manager1'), 'the existing line was not glued to the new one');
  const entries = parseKnownHosts(readFileSync(file, 'utf8'));
  assert.equal(checkHostKey(entries, '127.0.0.3', 2203, m3.blob).status, 'known');
});
