/**
 * A secret on our own command line is refused (issue 11): `ps` shows every process's argv to
 * every user, and the shell keeps it in its history. The refusal names the option and what to
 * use instead, and never repeats the value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli';

const SECRET = 'never-echo-this-0123456789';

for (const [argv, instead] of [
  [['backup', '--config', 'x.json', '--file', 'b.tar', '--passphrase', SECRET], /--passphrase-file FILE .*--passphrase-file - \(stdin\)/],
  [['backup', '--config', 'x.json', '--file', 'b.tar', `--passphrase=${SECRET}`], /--passphrase-file/],
  [['verify', 'b.tar', '--passphrase', SECRET], /--passphrase-file/],
  [['api', 'login', '--url', 'https://127.0.0.1:1', '--username', 'admin', '--password', SECRET], /--password-file FILE or --password-file - \(stdin\)/],
  [['api', 'backups', '--url', 'https://127.0.0.1:1', `--token=${SECRET}`], /--token-file/],
] as const) {
  test(`ucp-backup ${argv[0]} ${argv.find((a) => a.startsWith('--pass') || a.startsWith('--tok'))?.split('=')[0]} VALUE is refused, naming the safe option`, async () => {
    const r = await runCli([...argv]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is refused: a secret on the command line is visible to every user of this machine/);
    assert.match(r.stderr, instead);
    assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), 'the value is never echoed');
  });
}

test('a value after "--" is not an option and is not refused as one', async () => {
  const r = await runCli(['verify', '--', '--passphrase']);
  assert.doesNotMatch(r.stderr, /is refused/);
});
