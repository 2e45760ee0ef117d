/**
 * A cron job drives UCP backups with `ucp-backup api ...` (the real CLI, as a child process)
 * against the spec-exact FIXTURE UCP API server; exit codes are the CLI's contract.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { startUcpApiFixture, simulatedRunner, type UcpApiFixture, type RunnerResult } from '../fixtures/ucpApiServer';

let fx: UcpApiFixture;
let dir: string;
let tls: string[];
const PASSPHRASE = 'secret12chars';

before(async () => {
  fx = await startUcpApiFixture();
  dir = mkdtempSync(join(tmpdir(), 'api-cli-'));
  writeFileSync(join(dir, 'ca.pem'), fx.caPem);
  writeFileSync(join(dir, 'password'), 'admin-password\n');
  writeFileSync(join(dir, 'passphrase'), PASSPHRASE + '\n');
  tls = ['--url', fx.url, '--ca', join(dir, 'ca.pem')];
});
after(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

const tokenArgs = () => ['--token-file', join(dir, 'token')];

test('login saves the token 0600 without printing it; backup --wait, backups and get follow the spec schema', async () => {
  const login = await runCli(['api', 'login', ...tls, '--username', 'admin', '--password-file', join(dir, 'password'), '--token-file', join(dir, 'token')]);
  assert.equal(login.code, 0, login.stderr);
  const token = readFileSync(join(dir, 'token'), 'utf8').trim();
  assert.ok(token.length > 10);
  assert.equal(statSync(join(dir, 'token')).mode & 0o777, 0o600);
  assert.ok(!(login.stdout + login.stderr).includes(token));

  const backup = await runCli(['api', 'backup', ...tls, ...tokenArgs(), '--file-name', 'nightly.tar', '--host-path', '/var/backups/ucp', '--passphrase-file', join(dir, 'passphrase'), '--include-logs', '--wait', '--interval', '0.05', '--json']);
  assert.equal(backup.code, 0, backup.stderr);
  assert.ok(!(backup.stdout + backup.stderr).includes(PASSPHRASE));
  const record = JSON.parse(backup.stdout) as { id: string; backupState: string; logFileName: string; encrypted: boolean };
  assert.equal(record.backupState, 'SUCCESS');
  assert.equal(record.logFileName, 'nightly.log');
  assert.equal(record.encrypted, true);

  const list = await runCli(['api', 'backups', ...tls, '--username', 'admin', '--password-file', join(dir, 'password'), '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.ok((JSON.parse(list.stdout) as { id: string }[]).some((r) => r.id === record.id));

  const get = await runCli(['api', 'get', record.id, ...tls, ...tokenArgs()]);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, new RegExp(`^id\\s+${record.id}$`, 'm'));
  assert.match(get.stdout, /^backupState\s+SUCCESS$/m);
});

test('exit codes: 4 for an unknown ID, 3 while another backup runs, 1 for a FAILED backup, 2 for usage and TLS', async () => {
  const missing = await runCli(['api', 'get', 'no-such-backup', ...tls, ...tokenArgs()]);
  assert.equal(missing.code, 4, missing.stderr);

  let release!: (r: RunnerResult) => void;
  fx.runner = () => new Promise((r) => (release = r));
  try {
    const first = await runCli(['api', 'backup', ...tls, ...tokenArgs(), '--file-name', 'a.tar', '--host-path', '/var/backups/ucp', '--no-passphrase']);
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli(['api', 'backup', ...tls, ...tokenArgs(), '--file-name', 'b.tar', '--host-path', '/var/backups/ucp', '--no-passphrase']);
    assert.equal(second.code, 3, second.stderr);
    assert.match(second.stderr, /another backup is running/);
    release({ state: 'SUCCESS' });
    await fx.finished.get(first.stdout.trim());

    fx.runner = async () => ({ state: 'FAILED', shortError: 'disk full' });
    const failed = await runCli(['api', 'backup', ...tls, ...tokenArgs(), '--file-name', 'c.tar', '--host-path', '/var/backups/ucp', '--no-passphrase', '--wait', '--interval', '0.05']);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /^shortError\s+disk full$/m);
  } finally {
    fx.runner = simulatedRunner;
  }

  const both = await runCli(['api', 'backup', ...tls, ...tokenArgs(), '--file-name', 'd.tar', '--host-path', '/x', '--no-passphrase', '--passphrase-file', join(dir, 'passphrase')]);
  assert.equal(both.code, 2);
  const noCa = await runCli(['api', 'backups', '--url', fx.url, ...tokenArgs()]);
  assert.equal(noCa.code, 2);
  assert.match(noCa.stderr, /does not trust .*SHA-256 fingerprint [0-9A-F:]{95}.*--pin-sha256/);
});

test('each failure says what happened and what to do: refused connection, expired token, wrong password, bad CA file', async () => {
  // A port nothing listens on: take one, then free it.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const refused = await runCli(['api', 'backups', '--url', `https://127.0.0.1:${port}`, '--ca', join(dir, 'ca.pem'), ...tokenArgs()]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /connection refused by 127\.0\.0\.1:\d+\. Check --url/);

  fx.expireTokens();
  const expired = await runCli(['api', 'backups', ...tls, ...tokenArgs()]);
  assert.equal(expired.code, 2, expired.stderr);
  assert.match(expired.stderr, /\(401\).*log in again/);

  writeFileSync(join(dir, 'wrong-password'), 'not-the-password\n');
  const wrong = await runCli(['api', 'login', ...tls, '--username', 'admin', '--password-file', join(dir, 'wrong-password'), '--token-file', join(dir, 'token2')]);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /rejected the login of "admin".*Check the user name and the password file/);
  assert.ok(!wrong.stderr.includes('not-the-password'));

  writeFileSync(join(dir, 'not-a-ca.pem'), 'this is not a certificate\n');
  const badCa = await runCli(['api', 'backups', '--url', fx.url, '--ca', join(dir, 'not-a-ca.pem'), ...tokenArgs()]);
  assert.equal(badCa.code, 2, badCa.stderr);
  assert.match(badCa.stderr, /holds no PEM certificate.*https:\/\/<ucp-host>\/ca/);

  const noToken = await runCli(['api', 'backups', ...tls, '--token-file', join(dir, 'no-such-token')]);
  assert.equal(noToken.code, 2, noToken.stderr);
  assert.match(noToken.stderr, /Cannot read the token from .*no-such-token.*api login/);

  // The password can come from stdin, so it never touches the disk or argv.
  const viaStdin = await runCli(['api', 'backups', ...tls, '--username', 'admin', '--password-file', '-', '--json'], { stdin: 'admin-password\n' });
  assert.equal(viaStdin.code, 0, viaStdin.stderr);
  assert.ok(Array.isArray(JSON.parse(viaStdin.stdout)));
});

test('--client-bundle DIR authenticates with the bundle certificate and trusts its ca.pem; a broken bundle says how to fix it', async () => {
  const bundleDir = join(dir, 'bundle-admin');
  mkdirSync(bundleDir);
  const b = fx.issueClientBundle('admin');
  for (const [name, text] of Object.entries({ 'ca.pem': b.ca, 'cert.pem': b.cert, 'key.pem': b.key })) writeFileSync(join(bundleDir, name), text);
  const list = await runCli(['api', 'backups', '--url', fx.url, '--client-bundle', bundleDir, '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(Array.isArray(JSON.parse(list.stdout)));

  // key.pem of another bundle: refused before any connection.
  const broken = join(dir, 'bundle-broken');
  mkdirSync(broken);
  const other = fx.issueClientBundle('admin');
  for (const [name, text] of Object.entries({ 'ca.pem': b.ca, 'cert.pem': b.cert, 'key.pem': other.key })) writeFileSync(join(broken, name), text);
  const mismatch = await runCli(['api', 'backups', '--url', fx.url, '--client-bundle', broken]);
  assert.equal(mismatch.code, 2, mismatch.stderr);
  assert.match(mismatch.stderr, /client bundle .* is unusable.*same bundle/);

  const missing = await runCli(['api', 'backups', '--url', fx.url, '--client-bundle', join(dir, 'no-bundle')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Cannot read the client bundle .*no-bundle: .*Client Bundles/);
});
