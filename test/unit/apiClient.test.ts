/**
 * An admin drives UCP backups through the UCP API (back-up-ucp.txt, "Create, list, and retrieve
 * UCP backups using the API"). The server is the spec-exact FIXTURE in test/fixtures/ucpApiServer.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { UcpApiClient } from '../../src/core/api/ucpApiClient';
import {
  AnotherBackupRunningError,
  ApiTimeoutError,
  AuthenticationError,
  BackupNotFoundError,
  ConnectionError,
  ForbiddenError,
  InvalidResponseError,
  MalformedRequestError,
  ServerError,
} from '../../src/core/api/errors';
import { CancelledError, describeError } from '../../src/core/errors';
import { ZERO_TIME, SPEC_FIELDS } from '../../src/core/history/record';
import { parseBackupId, checkBackupList, type CreateBackupRequest } from '../../src/core/api/schema';
import { startUcpApiFixture, simulatedRunner, type UcpApiFixture, type RunnerResult } from '../fixtures/ucpApiServer';
import { issueClientCert, makeCa } from '../fixtures/api/selfSignedCert';

let fx: UcpApiFixture;
let api: UcpApiClient;
const PASSPHRASE = 'secret12chars';
const request: CreateBackupRequest = { fileName: 'backup1.tar', hostPath: '/secure-location', passphrase: PASSPHRASE, includeLogs: true };

before(async () => {
  fx = await startUcpApiFixture();
  api = new UcpApiClient({ url: fx.url, ca: fx.caPem });
  await api.login('admin', 'admin-password');
});
after(() => fx.close());

/** A runner held IN_PROGRESS until the test lets it finish. */
function gatedRunner() {
  let release!: (r: RunnerResult) => void;
  const done = new Promise<RunnerResult>((r) => (release = r));
  return { runner: () => done, release };
}

/** Raw HTTPS call, for what the client deliberately never sends. */
function rawPost(path: string, token: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, fx.url), { method: 'POST', ca: fx.caPem, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

test('a backup created through the API is listed IN_PROGRESS, then SUCCESS with the spec schema', async () => {
  const gate = gatedRunner();
  fx.runner = gate.runner;
  try {
    const id = await api.createBackup(request);
    const running = await api.getBackup(id);
    assert.equal(running.backupState, 'IN_PROGRESS');
    assert.equal(running.completed_at, ZERO_TIME);
    assert.ok((await api.listBackups()).some((r) => r.id === id && r.backupState === 'IN_PROGRESS'));

    gate.release({ state: 'SUCCESS' });
    const updates: string[] = [];
    const done = await api.waitForBackup(id, { intervalMs: 20, onUpdate: ({ record }) => updates.push(record.backupState) });
    assert.equal(done.backupState, 'SUCCESS');
    assert.equal(updates.at(-1), 'SUCCESS');
    assert.deepEqual(Object.keys(done), [...SPEC_FIELDS]);
    assert.equal(done.encrypted, true);
    assert.equal(done.fileName, 'backup1.tar');
    assert.equal(done.logFileName, 'backup1.log');
    assert.equal(done.backupPath, '/secure-location');
    assert.equal(done.shortError, '');
    assert.notEqual(done.completed_at, ZERO_TIME);
    // The client sends the documented field names, not the curl example's encrypted/logFileName.
    assert.deepEqual(fx.createBodies.at(-1), { fileName: 'backup1.tar', hostPath: '/secure-location', includeLogs: true, passphrase: PASSPHRASE });
  } finally {
    fx.runner = simulatedRunner;
  }
});

test('the doc curl example spelling (encrypted/logFileName) is accepted by the fixture too', async () => {
  const r = await rawPost('/api/ucp/backup', api.token!, { encrypted: false, includeLogs: true, fileName: 'b2.tar', logFileName: 'b2-custom.log', hostPath: '/secure-location' });
  assert.equal(r.status, 200, r.body);
  const id = (JSON.parse(r.body) as { id: string }).id;
  const rec = await api.waitForBackup(id, { intervalMs: 20 });
  assert.equal(rec.encrypted, false);
  assert.equal(rec.logFileName, 'b2-custom.log');
});

test("the docs' curl example payload, byte for byte, is answered 200 OK; without a passphrase that backup ends FAILED", async () => {
  const docsExample = '{"encrypted": true, "includeLogs": true, "fileName": "backup1.tar", "logFileName": "backup1.log", "hostPath": "/secure-location"}';
  const r = await rawPost('/api/ucp/backup', api.token!, docsExample);
  assert.equal(r.status, 200, r.body);
  const rec = await api.waitForBackup((JSON.parse(r.body) as { id: string }).id, { intervalMs: 20 });
  assert.equal(rec.encrypted, true);
  assert.equal(rec.backupState, 'FAILED');
  assert.match(rec.shortError, /needs a passphrase/);
});

test("the docs' GET /api/ucp/backups example records pass the schema check unchanged", () => {
  const docsList = [
    { id: '0d0525dd-948a-41b4-9f25-c6b4cd6d9fe4', encrypted: true, fileName: 'backup2.tar', logFileName: 'backup2.log', backupPath: '/secure-location', backupState: 'SUCCESS', nodeLocation: 'ucp-node-ubuntu-0', shortError: '', created_at: '2019-04-10T21:55:53.775Z', completed_at: '2019-04-10T21:56:01.184Z' },
    { id: '2cf210df-d641-44ca-bc21-bda757c08d18', encrypted: true, fileName: 'backup1.tar', logFileName: 'backup1.log', backupPath: '/secure-location', backupState: 'IN_PROGRESS', nodeLocation: 'ucp-node-ubuntu-0', shortError: '', created_at: '2019-04-10T01:23:59.404Z', completed_at: '0001-01-01T00:00:00Z' },
  ];
  assert.deepEqual(checkBackupList(JSON.parse(JSON.stringify(docsList))), docsList.map((record) => ({ record, missingFields: [], newFields: [] })));
  assert.equal(parseBackupId(JSON.stringify({ id: docsList[0].id })), docsList[0].id);
  assert.equal(parseBackupId(JSON.stringify(docsList[1].id)), docsList[1].id);
});

test('a second backup while one runs is refused with the spec message, as AnotherBackupRunningError', async () => {
  const gate = gatedRunner();
  fx.runner = gate.runner;
  try {
    const first = await api.createBackup(request);
    const err = await api.createBackup({ ...request, fileName: 'second.tar' }).catch((e: unknown) => e);
    assert.ok(err instanceof AnotherBackupRunningError, String(err));
    assert.match(err.message, /another backup is running/);
    assert.equal(err.exitCode, 3);
    gate.release({ state: 'SUCCESS' });
    await api.waitForBackup(first, { intervalMs: 20 });
    // Once the first is done a new one is accepted.
    fx.runner = simulatedRunner;
    await api.waitForBackup(await api.createBackup({ ...request, fileName: 'third.tar' }), { intervalMs: 20 });
  } finally {
    fx.runner = simulatedRunner;
  }
});

test('a backup that fails ends FAILED with its shortError', async () => {
  fx.runner = async () => ({ state: 'FAILED', shortError: 'hostPath is not writable by nobody' });
  try {
    const rec = await api.waitForBackup(await api.createBackup(request), { intervalMs: 20 });
    assert.equal(rec.backupState, 'FAILED');
    assert.equal(rec.shortError, 'hostPath is not writable by nobody');
  } finally {
    fx.runner = simulatedRunner;
  }
});

test('payloads that fail validation answer 400 as MalformedRequestError, without echoing the passphrase', async () => {
  const bad: [string, unknown, RegExp][] = [
    ['passphrase and noPassphrase', { ...request, noPassphrase: true }, /mutually exclusive/],
    ['neither passphrase nor noPassphrase', { fileName: 'a.tar', hostPath: '/x' }, /passphrase is required/],
    ['a passphrase under 12 characters', { ...request, passphrase: 'short' }, /at least 12/],
    ['relative hostPath', { ...request, hostPath: 'backups' }, /absolute/],
    ['hostPath with ..', { ...request, hostPath: '/var/../etc' }, /absolute, normalized/],
    ['fileName with a slash', { ...request, fileName: '../etc/passwd' }, /file name/],
    ['missing fileName', { ...request, fileName: '' }, /fileName is required/],
    ['includeLogs as a string', { ...request, includeLogs: 'yes' }, /includeLogs.*boolean/],
  ];
  for (const [what, body, message] of bad) {
    const err = await api.createBackup(body as CreateBackupRequest).catch((e: unknown) => e);
    assert.ok(err instanceof MalformedRequestError, `${what}: ${String(err)}`);
    assert.equal(err.status, 400);
    assert.match(err.message, message, what);
    assert.ok(!describeError(err).includes(PASSPHRASE), what);
  }
  assert.equal((await rawPost('/api/ucp/backup', api.token!, { ...request, extra: 1 })).status, 400);
  assert.equal((await rawPost('/api/ucp/backup', api.token!, { ...request, encrypted: false })).status, 400);
});

test('an unknown backup ID answers 404 as BackupNotFoundError', async () => {
  const err = await api.getBackup('0d0525dd-948a-41b4-9f25-c6b4cd6d9fe4').catch((e: unknown) => e);
  assert.ok(err instanceof BackupNotFoundError, String(err));
  assert.equal(err.exitCode, 4);
});

test('internal server errors (500) of each endpoint surface as ServerError', async () => {
  fx.failNext('list');
  await assert.rejects(api.listBackups(), (e) => e instanceof ServerError && e.status === 500 && /injected/.test(e.message));
  const id = await api.createBackup(request);
  fx.failNext('get');
  await assert.rejects(api.getBackup(id), ServerError);
  await api.waitForBackup(id, { intervalMs: 20 });
  fx.failNext('create');
  await assert.rejects(api.createBackup(request), (e) => e instanceof ServerError && !(e instanceof AnotherBackupRunningError));
});

test('records that break the Backup schema are refused, never passed on', async () => {
  await api.waitForBackup(await api.createBackup(request), { intervalMs: 20 });
  for (const mode of ['wrong-type', 'unknown-state', 'not-a-list'] as const) {
    fx.malformed = mode;
    try {
      await assert.rejects(api.listBackups(), InvalidResponseError, mode);
    } finally {
      fx.malformed = null;
    }
  }
  const [one] = await api.listBackups();
  fx.malformed = 'wrong-type';
  try {
    await assert.rejects(api.getBackup(one.id), /encrypted should be a boolean/);
  } finally {
    fx.malformed = null;
  }
});

test('login: a wrong password and an expired token are 401 with a "log in again" hint', async () => {
  const fresh = new UcpApiClient({ url: fx.url, ca: fx.caPem });
  const wrong = await fresh.login('admin', 'wrong').catch((e: unknown) => e);
  assert.ok(wrong instanceof AuthenticationError, String(wrong));
  assert.match(wrong.hint!, /user name and the password/);
  await assert.rejects(fresh.listBackups(), AuthenticationError, 'no token: refused before any request');

  const token = await fresh.login('admin', 'admin-password');
  const other = new UcpApiClient({ url: fx.url, ca: fx.caPem }).withToken(token);
  assert.ok(Array.isArray(await other.listBackups()));
  fx.expireTokens();
  const err = await other.listBackups().catch((e: unknown) => e);
  assert.ok(err instanceof AuthenticationError, String(err));
  assert.match(err.hint!, /log in again/);
  assert.ok(!describeError(err).includes(token));
  await api.login('admin', 'admin-password');
});

test('a user who is not a UCP administrator gets 403 with a hint to use one', async () => {
  const viewer = new UcpApiClient({ url: fx.url, ca: fx.caPem });
  await viewer.login('viewer', 'viewer-password');
  const err = await viewer.listBackups().catch((e: unknown) => e);
  assert.ok(err instanceof ForbiddenError, String(err));
  assert.match(err.hint!, /UCP administrator/);
  await assert.rejects(viewer.createBackup(request), ForbiddenError);
});

test("a UCP client bundle's certificate authenticates without a token; a viewer's is 403, another CA's is 401", async () => {
  const admin = fx.issueClientBundle('admin');
  const byBundle = new UcpApiClient({ url: fx.url, ca: admin.ca, clientCert: { cert: admin.cert, key: admin.key } });
  const id = await byBundle.createBackup(request);
  assert.equal((await byBundle.waitForBackup(id, { intervalMs: 20 })).backupState, 'SUCCESS');
  assert.ok((await byBundle.listBackups()).some((r) => r.id === id));

  const viewer = fx.issueClientBundle('viewer');
  await assert.rejects(new UcpApiClient({ url: fx.url, ca: viewer.ca, clientCert: viewer }).listBackups(), ForbiddenError);

  // Signed by a CA this UCP does not know: the server does not accept it as anyone.
  const foreignCa = makeCa('another-ucp-client-root-ca');
  const foreign = issueClientCert(foreignCa, 'admin');
  const err = await new UcpApiClient({ url: fx.url, ca: fx.caPem, clientCert: foreign }).listBackups().catch((e: unknown) => e);
  assert.ok(err instanceof AuthenticationError, String(err));
  assert.match(err.message, /client bundle certificate/);
  assert.match(err.hint!, /download a new one/);
});

test('a refused connection, a silent server and a cancelled wait are typed errors', async () => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const refused = await new UcpApiClient({ url: `https://127.0.0.1:${port}`, token: 't' }).listBackups().catch((e: unknown) => e);
  assert.ok(refused instanceof ConnectionError, String(refused));
  assert.match(refused.message, /connection refused by 127\.0\.0\.1:\d+\./);
  assert.match(refused.hint!, /Check --url/);

  // A plain-HTTP server where UCP's HTTPS port should be.
  const plain = http.createServer((_q, r) => r.end('hello'));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  try {
    const url = `https://127.0.0.1:${(plain.address() as net.AddressInfo).port}`;
    const err = await new UcpApiClient({ url, token: 't' }).listBackups().catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError, String(err));
    assert.match(err.hint!, /not UCP's HTTPS port/);
  } finally {
    plain.close();
  }

  // Accepts TCP, never speaks TLS.
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const url = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    await assert.rejects(new UcpApiClient({ url, token: 't', timeoutMs: 300 }).listBackups(), ApiTimeoutError);
  } finally {
    silent.close();
  }

  const gate = gatedRunner();
  fx.runner = gate.runner;
  try {
    const id = await api.createBackup(request);
    const ac = new AbortController();
    const waiting = api.waitForBackup(id, { intervalMs: 50, signal: ac.signal, onUpdate: () => ac.abort() });
    await assert.rejects(waiting, CancelledError);
    gate.release({ state: 'SUCCESS' });
    await api.waitForBackup(id, { intervalMs: 20 });
  } finally {
    fx.runner = simulatedRunner;
  }
});
