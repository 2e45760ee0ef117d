/**
 * What an admin reads when UCP's answer is an error or unusable: the server's own words and our
 * hint joined as two sentences, a body that stopped early called cut short (not "not JSON"),
 * and malformed JSON or a proxy's HTML page said in one clear sentence. Server: the FIXTURE.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UcpApiClient } from '../../src/core/api/ucpApiClient';
import { AnotherBackupRunningError, MalformedJsonError, MalformedRequestError, ResponseCutShortError, ServerError, asSentence } from '../../src/core/api/errors';
import { parseJsonBody, serverMessage } from '../../src/core/api/httpsTransport';
import { describeError } from '../../src/core/errors';
import { runCli } from '../helpers/cli';
import { startUcpApiFixture, type UcpApiFixture } from '../fixtures/ucpApiServer';

let fx: UcpApiFixture;
let api: UcpApiClient;
let dir: string;

before(async () => {
  fx = await startUcpApiFixture();
  api = new UcpApiClient({ url: fx.url, ca: fx.caPem });
  await api.login('admin', 'admin-password');
  await api.waitForBackup(await api.createBackup({ fileName: 'a.tar', hostPath: '/var/backups/ucp', noPassphrase: true }), { intervalMs: 20 });
  dir = mkdtempSync(join(tmpdir(), 'api-answers-'));
  writeFileSync(join(dir, 'ca.pem'), fx.caPem);
  writeFileSync(join(dir, 'password'), 'admin-password\n');
});
after(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Two sentences: no "text Hint", no "text.. Hint", no doubled stop anywhere. */
function assertJoinedAsSentences(text: string, serverWords: string) {
  const at = text.indexOf(serverWords);
  assert.ok(at >= 0, `${text} should contain the server's "${serverWords}"`);
  const after = text.slice(at + serverWords.length);
  assert.match(after, /^[.!?]? [A-Z(]/, text);
  assert.doesNotMatch(text, /[^.]\.\.(?!\.)|\.\. /, text);
}

test("the server's text and our hint are joined as two sentences, whether or not the server ends with a stop", async () => {
  for (const words of ['disk quota exceeded', 'disk quota exceeded.', 'Is the disk full?']) {
    fx.failNext('list', 500, words);
    const err = await api.listBackups().catch((e: unknown) => e);
    assert.ok(err instanceof ServerError, String(err));
    assertJoinedAsSentences(describeError(err), words.replace(/\.$/, ''));
    assert.match(describeError(err), /^UCP answered 500: .*[.?] See the UCP controller logs/);
  }
  fx.failNext('create', 400, 'fileName is required');
  const bad = await api.createBackup({ fileName: 'x.tar', hostPath: '/x', noPassphrase: true }).catch((e: unknown) => e);
  assert.ok(bad instanceof MalformedRequestError, String(bad));
  assert.equal(describeError(bad), 'UCP rejected the backup request as malformed (400): fileName is required. Check --file-name, --host-path and the passphrase options.');
  const running = new AnotherBackupRunningError('backup failed: another backup is running');
  assert.equal(describeError(running).split('. ')[0], 'UCP refused the backup: backup failed: another backup is running');
  fx.failNext('get', 500, '');
  assert.equal(describeError(await api.getBackup('x').catch((e: unknown) => e)), 'UCP answered 500 without a message. See the UCP controller logs (ucp-controller) for the cause.');
});

test('a long server message is shortened visibly, and still ends as a sentence before the hint', () => {
  const long = serverMessage(JSON.stringify({ errors: [{ code: 'X', message: 'word '.repeat(200) }] }));
  assert.ok(long.length < 300, String(long.length));
  assert.match(long, /… \(shortened\)$/);
  assert.match(describeError(new ServerError(500, long)), /… \(shortened\)\. See the UCP/);
  assert.equal(asSentence('done!'), 'done!');
  assert.equal(asSentence('  trailing space '), 'trailing space.');
});

test('an answer whose connection drops mid-body is "cut short" with the byte counts, not "not JSON"', async () => {
  fx.breakNextAnswer('list', 'cut-short');
  const err = await api.listBackups().catch((e: unknown) => e);
  assert.ok(err instanceof ResponseCutShortError, String(err));
  assert.match(err.message, /^UCP's answer to GET \/api\/ucp\/backups was cut short: the connection closed after \d+ bytes of the \d+ announced\.$/);
  assert.doesNotMatch(describeError(err), /JSON/);
  assert.match(err.hint!, /proxy or load balancer/);
  // The client is fine afterwards: the next call works.
  assert.ok((await api.listBackups()).length > 0);
});

test('a complete body whose JSON breaks off is cut short too; malformed JSON and an HTML page are one clear sentence', async () => {
  const [one] = await api.listBackups();
  fx.breakNextAnswer('get', 'truncated-json');
  const cut = await api.getBackup(one.id).catch((e: unknown) => e);
  assert.ok(cut instanceof ResponseCutShortError, String(cut));
  assert.match(cut.message, /^UCP's answer to GET \/api\/ucp\/backup\/\{id\} was cut short: its JSON breaks off after \d+ bytes\.$/);

  fx.breakNextAnswer('list', 'malformed-json');
  const bad = await api.listBackups().catch((e: unknown) => e);
  assert.ok(bad instanceof MalformedJsonError, String(bad));
  assert.match(bad.message, /^UCP's answer to GET \/api\/ucp\/backups is not valid JSON \(broken at byte \d+ of \d+\)\.$/);
  // One sentence: the parser's own wording (with a quote of the body) is not passed on.
  assert.equal(bad.message.split('. ').length, 1);

  fx.breakNextAnswer('list', 'html');
  const html = await api.listBackups().catch((e: unknown) => e);
  assert.ok(html instanceof MalformedJsonError && html.looksLikeHtml, String(html));
  assert.match(describeError(html), /is an HTML page, not JSON\. A proxy or login page/);

  assert.throws(() => parseJsonBody('', 'GET /x'), /is not valid JSON \(the body is empty\)\./);
  assert.throws(() => parseJsonBody('[{"id":"a"},', 'GET /x'), ResponseCutShortError);
  assert.throws(() => parseJsonBody('{"a":1}x', 'GET /x'), MalformedJsonError);
});

test('the CLI prints a cut-short answer as one line with exit 1', async () => {
  fx.breakNextAnswer('list', 'cut-short');
  const r = await runCli(['api', 'backups', '--url', fx.url, '--ca', join(dir, 'ca.pem'), '--username', 'admin', '--password-file', join(dir, 'password')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^ucp-backup: UCP's answer to GET \/api\/ucp\/backups was cut short: .*\. Retry; if it keeps happening/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
