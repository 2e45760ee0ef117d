/**
 * With the password at hand, an expired UCP token does not stop an admin: the client logs in
 * again once and retries, also while `api backup --wait` polls; a token UCP rejects again at
 * once is a clear error, as is a password that no longer works. The password and the token
 * never show in argv, output or error text (a marker is grepped for). Server: the FIXTURE.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UcpApiClient } from '../../src/core/api/ucpApiClient';
import { AuthenticationError } from '../../src/core/api/errors';
import { describeError } from '../../src/core/errors';
import { runCli, type CliResult } from '../helpers/cli';
import { startUcpApiFixture, simulatedRunner, type UcpApiFixture, type RunnerResult } from '../fixtures/ucpApiServer';

const PASSWORD = 'MARKER-pw-5b1e0c7d-never-shown';
let fx: UcpApiFixture;
let dir: string;
const tokensSeen: string[] = [];

before(async () => {
  fx = await startUcpApiFixture({ users: { admin: { password: PASSWORD, admin: true } } });
  dir = mkdtempSync(join(tmpdir(), 'api-renew-'));
  writeFileSync(join(dir, 'ca.pem'), fx.caPem);
  writeFileSync(join(dir, 'password'), PASSWORD + '\n', { mode: 0o600 });
});
after(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

const logins = () => fx.requests.filter((r) => r.route === 'login').length;

/** Bounded, so a regression fails the test instead of hanging it. */
async function waitUntil(cond: () => boolean, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function client(passwordAsked: { n: number } = { n: 0 }, renewed: string[] = []) {
  return new UcpApiClient({
    url: fx.url,
    ca: fx.caPem,
    credentials: { username: 'admin', password: async () => (passwordAsked.n++, PASSWORD) },
    onTokenRenewed: (t) => renewed.push(t),
  });
}

/** Neither secret in what the admin (or anyone with `ps`) can see. */
function assertNoSecrets(args: string[], r: CliResult | string) {
  const shown = typeof r === 'string' ? r : r.stdout + r.stderr;
  for (const secret of [PASSWORD, ...tokensSeen]) {
    assert.ok(!args.join(' ').includes(secret), 'a secret is in argv');
    assert.ok(!shown.includes(secret), `a secret is in the output: ${shown}`);
  }
  assert.doesNotMatch(shown, /MARKER-pw/);
}

test('with credentials the client logs in by itself, and on an expired token logs in again once and retries', async () => {
  const asked = { n: 0 };
  const renewed: string[] = [];
  const api = client(asked, renewed);
  assert.ok(Array.isArray(await api.listBackups()));
  assert.equal(asked.n, 1, 'first call logs in');
  const first = api.token!;
  tokensSeen.push(first);

  fx.expireTokens();
  const before = logins();
  // Three calls find the token expired at once: one login serves them all.
  const lists = await Promise.all([api.listBackups(), api.listBackups(), api.listBackups()]);
  assert.equal(lists.length, 3);
  assert.equal(logins() - before, 1, 'one login for concurrent 401s');
  assert.notEqual(api.token, first);
  assert.deepEqual(renewed, [api.token]);
  tokensSeen.push(api.token!);
});

test('a POST refused 401 for an expired token is sent again after the login, and the backup is made once', async () => {
  const api = client();
  await api.listBackups();
  tokensSeen.push(api.token!);
  fx.expireTokens();
  const n = fx.records.size;
  const id = await api.createBackup({ fileName: 'renewed.tar', hostPath: '/var/backups/ucp', noPassphrase: true });
  assert.equal(fx.records.size, n + 1);
  assert.equal((await api.waitForBackup(id, { intervalMs: 20 })).backupState, 'SUCCESS');
});

test('a new token UCP rejects again at once is a clear error, not a login loop', async () => {
  const api = client();
  await api.listBackups();
  fx.expireTokens();
  fx.issueExpiredTokens = true;
  try {
    const before = logins();
    const err = await api.listBackups().catch((e: unknown) => e);
    assert.ok(err instanceof AuthenticationError, String(err));
    assert.match(err.message, /rejected the new token too \(401\), right after logging in again as "admin"/);
    assert.equal(logins() - before, 1, 'exactly one login again');
    assertNoSecrets([], describeError(err));
  } finally {
    fx.issueExpiredTokens = false;
  }
});

test('a password that no longer works at renewal says so; without credentials a 401 says how to renew', async () => {
  const api = new UcpApiClient({ url: fx.url, ca: fx.caPem, credentials: { username: 'admin', password: async () => PASSWORD } });
  await api.listBackups();
  const stale = new UcpApiClient({ url: fx.url, ca: fx.caPem, token: api.token!, credentials: { username: 'admin', password: async () => 'the-old-password' } });
  fx.expireTokens();
  const err = await stale.listBackups().catch((e: unknown) => e);
  assert.ok(err instanceof AuthenticationError, String(err));
  assert.match(describeError(err), /no longer accepted the token \(401\), and logging in again as "admin" was refused\. The password may have changed/);
  assert.doesNotMatch(describeError(err), /the-old-password/);

  const bare = await new UcpApiClient({ url: fx.url, ca: fx.caPem, token: 'expired' }).listBackups().catch((e: unknown) => e);
  assert.ok(bare instanceof AuthenticationError);
  assert.match(bare.hint!, /log in again .* or give the password \(--username with --password-file\)/);
});

test('`api backup --wait` survives the token expiring mid-poll: one login again, the new token saved 0600, no secret shown', async () => {
  const args = ['--url', fx.url, '--ca', join(dir, 'ca.pem')];
  const tokenFile = join(dir, 'token');
  const login = await runCli(['api', 'login', ...args, '--username', 'admin', '--password-file', join(dir, 'password'), '--token-file', tokenFile]);
  assert.equal(login.code, 0, login.stderr);
  const oldToken = readFileSync(tokenFile, 'utf8').trim();
  tokensSeen.push(oldToken);

  let release!: (r: RunnerResult) => void;
  fx.runner = () => new Promise((r) => (release = r));
  try {
    const cliArgs = ['api', 'backup', ...args, '--token-file', tokenFile, '--username', 'admin', '--password-file', join(dir, 'password'),
      '--file-name', 'mid-poll.tar', '--host-path', '/var/backups/ucp', '--no-passphrase', '--wait', '--interval', '0.05'];
    const running = runCli(cliArgs);
    // Let it poll, expire its token, then let the backup finish.
    const polls = () => fx.requests.filter((r) => r.route === 'get').length;
    const start = polls();
    await waitUntil(() => polls() >= start + 2, 'the CLI to poll');
    const before = logins();
    fx.expireTokens();
    try {
      await waitUntil(() => logins() > before, 'the CLI to log in again');
    } finally {
      release({ state: 'SUCCESS' });
    }
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^backupState\s+SUCCESS$/m);
    assert.equal(logins() - before, 1);
    assert.match(r.stderr, /token had expired: logged in again as admin; new token saved to .*token\./);
    const newToken = readFileSync(tokenFile, 'utf8').trim();
    assert.notEqual(newToken, oldToken);
    tokensSeen.push(newToken);
    assertNoSecrets(cliArgs, r);
  } finally {
    fx.runner = simulatedRunner;
  }
});

test('a token UCP rejects right after the first login is not renewed in a loop: exit 2 and one clear line', async () => {
  fx.issueExpiredTokens = true;
  try {
    const cliArgs = ['api', 'backups', '--url', fx.url, '--ca', join(dir, 'ca.pem'), '--username', 'admin', '--password-file', '-'];
    const before = logins();
    const r = await runCli(cliArgs, { stdin: PASSWORD + '\n' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^ucp-backup: UCP rejected the token it had just issued \(401\), right after logging in as "admin"\. The login works/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(logins() - before, 1, 'no second login for a token just issued');
    assertNoSecrets(cliArgs, r);
  } finally {
    fx.issueExpiredTokens = false;
  }
});
