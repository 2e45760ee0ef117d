/**
 * How the VS Code commands get the passphrase of an archive they verify: asked only when it
 * is encrypted, the stored one first, asked again after a wrong one, and a cancelled prompt
 * ends quietly. Real archives (GNU tar, real gpg); the prompt is the only stand-in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWithPassphrase } from '../../src/vscode/flows/backupAccess';
import type { Services } from '../../src/vscode/services';
import { gpgEncrypt, makeTar, PASSPHRASE, tempDir } from '../helpers/archives';

type Ask = { label: string; cluster: string | undefined; previousFailed: boolean };

/** Answers prompts from a script and records what was asked. */
function prompting(answers: (string | undefined)[]): { services: Services; asked: Ask[] } {
  const asked: Ask[] = [];
  const passphrases = {
    forDecrypt: async (label: string, cluster: string | undefined, previousFailed: boolean) => {
      asked.push({ label, cluster, previousFailed });
      return answers.shift();
    },
  };
  return { services: { passphrases } as unknown as Services, asked };
}

const dir = tempDir('ucp-vscode-verify-');
const plain = makeTar(dir);
const encrypted = gpgEncrypt(dir, plain);

test('a plain archive is verified without asking anything', async () => {
  const { services, asked } = prompting([]);
  const report = await verifyWithPassphrase(services, { source: { kind: 'file', path: plain }, cluster: 'demo' });
  assert.equal(report?.verdict, 'VALID');
  assert.equal(asked.length, 0);
});

test('after a wrong passphrase the admin is asked again, told that it failed', async () => {
  const { services, asked } = prompting(['wrong passphrase!!', PASSPHRASE]);
  const report = await verifyWithPassphrase(services, { source: { kind: 'file', path: encrypted }, cluster: 'demo' });
  assert.equal(report?.verdict, 'VALID');
  assert.ok(report!.entries.some((e) => e.name === './ucp-controller-server-certs/key.pem'));
  assert.deepEqual(asked.map((a) => [a.cluster, a.previousFailed]), [['demo', false], ['demo', true]]);
});

test('cancelling the passphrase prompt ends the verify without an error', async () => {
  const { services, asked } = prompting([undefined]);
  const report = await verifyWithPassphrase(services, { source: { kind: 'file', path: encrypted } });
  assert.equal(report, undefined);
  assert.equal(asked.length, 1);
});

test('three wrong passphrases end with the wrong-passphrase error and its hint', async () => {
  const { services, asked } = prompting(['wrong passphrase 1', 'wrong passphrase 2', 'wrong passphrase 3']);
  await assert.rejects(verifyWithPassphrase(services, { source: { kind: 'file', path: encrypted } }), (err: Error & { hint?: string }) => err.name === 'WrongPassphraseError' && !!err.hint);
  assert.equal(asked.length, 3);
});
