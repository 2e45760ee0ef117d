/**
 * An admin reads UCP's backup records through the API as UCP means them: the zero time of a
 * running backup reads "not completed", fields a newer UCP adds are kept and shown, and fields
 * it leaves out are reported as a warning instead of failing. Server: the FIXTURE UCP API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UcpApiClient } from '../../src/core/api/ucpApiClient';
import { checkBackupRecord } from '../../src/core/api/schema';
import { formatUcpTime, isCompleted, isUcpZeroTime, missingFieldsWarning, NOT_COMPLETED, NOT_SENT, recordLines } from '../../src/core/api/recordText';
import { InvalidResponseError } from '../../src/core/api/errors';
import { ZERO_TIME } from '../../src/core/history/record';
import { runCli } from '../helpers/cli';
import { startUcpApiFixture, simulatedRunner, type UcpApiFixture, type RunnerResult } from '../fixtures/ucpApiServer';

let fx: UcpApiFixture;
let dir: string;
let cli: string[];
let release: (r: RunnerResult) => void;
let runningId: string;
let doneId: string;
const warnings: string[] = [];
let api: UcpApiClient;

before(async () => {
  fx = await startUcpApiFixture();
  dir = mkdtempSync(join(tmpdir(), 'api-records-'));
  writeFileSync(join(dir, 'ca.pem'), fx.caPem);
  writeFileSync(join(dir, 'password'), 'admin-password\n');
  cli = ['--url', fx.url, '--ca', join(dir, 'ca.pem'), '--username', 'admin', '--password-file', join(dir, 'password')];
  api = new UcpApiClient({ url: fx.url, ca: fx.caPem, onSchemaWarning: (w) => warnings.push(w) });
  await api.login('admin', 'admin-password');
  doneId = await api.createBackup({ fileName: 'done.tar', hostPath: '/var/backups/ucp', noPassphrase: true });
  await api.waitForBackup(doneId, { intervalMs: 20 });
  // One backup stays IN_PROGRESS for the whole file.
  fx.runner = () => new Promise((r) => (release = r));
  runningId = await api.createBackup({ fileName: 'running.tar', hostPath: '/var/backups/ucp', noPassphrase: true });
});
after(async () => {
  release({ state: 'SUCCESS' });
  fx.runner = simulatedRunner;
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

test("UCP's zero time is recognized in its spellings and reads 'not completed'; a real time reads as itself", () => {
  for (const zero of [ZERO_TIME, '0001-01-01T00:00:00.000Z', '0001-01-01T00:00:00+00:00']) {
    assert.equal(isUcpZeroTime(zero), true, zero);
    assert.equal(formatUcpTime(zero), NOT_COMPLETED, zero);
  }
  assert.equal(isUcpZeroTime('2019-04-10T21:56:01.184Z'), false);
  assert.equal(formatUcpTime('2019-04-10T21:56:01.184Z'), '2019-04-10T21:56:01.184Z');
  assert.equal(formatUcpTime(''), NOT_SENT);
  assert.equal(isCompleted({ completed_at: ZERO_TIME }), false);
  assert.equal(isCompleted({ completed_at: '2019-04-10T21:56:01.184Z' }), true);
  assert.equal(isCompleted({}), undefined);
});

test('`api get` of a running backup says "not completed"; --json keeps the raw zero time', async () => {
  const text = await runCli(['api', 'get', runningId, ...cli]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^backupState\s+IN_PROGRESS$/m);
  assert.match(text.stdout, /^completed_at\s+not completed$/m);
  assert.doesNotMatch(text.stdout, /0001-01-01/);

  const json = await runCli(['api', 'get', runningId, ...cli, '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as { completed_at: string }).completed_at, ZERO_TIME);

  const list = await runCli(['api', 'backups', ...cli]);
  assert.equal(list.code, 0, list.stderr);
  const row = list.stdout.split('\n').find((l) => l.startsWith(runningId))!;
  assert.match(row, /IN_PROGRESS\s+\S+\s+not completed/);
  assert.match(list.stdout.split('\n')[0], /COMPLETED/);
  assert.doesNotMatch(list.stdout, /0001-01-01/);
});

test('fields a newer UCP adds are kept by the client and shown by `api get` (text and --json) and `api backups`', async () => {
  fx.recordVariant = { addFields: { sizeBytes: 123456, tags: ['nightly', 'dc1'], region: 'eu-west' } };
  try {
    const checked = await api.getBackupChecked(doneId);
    assert.deepEqual(checked.newFields, ['sizeBytes', 'tags', 'region']);
    assert.equal(checked.record.sizeBytes, 123456);
    assert.deepEqual(checked.record.tags, ['nightly', 'dc1']);
    const lines = recordLines(checked);
    assert.deepEqual(lines.filter((l) => l.kind === 'new').map((l) => `${l.field}=${l.value}`), ['sizeBytes=123456', 'tags=["nightly","dc1"]', 'region=eu-west']);

    const text = await runCli(['api', 'get', doneId, ...cli]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /beyond the documented Backup schema[^\n]*\nsizeBytes\s+123456\ntags\s+\["nightly","dc1"\]\nregion\s+eu-west\n$/);
    const json = JSON.parse((await runCli(['api', 'get', doneId, ...cli, '--json'])).stdout) as Record<string, unknown>;
    assert.equal(json.region, 'eu-west');
    assert.deepEqual(json.tags, ['nightly', 'dc1']);
    const listJson = JSON.parse((await runCli(['api', 'backups', ...cli, '--json'])).stdout) as Record<string, unknown>[];
    assert.ok(listJson.every((r) => r.sizeBytes === 123456));
    const list = await runCli(['api', 'backups', ...cli]);
    assert.match(list.stdout, /beyond the documented schema: sizeBytes, tags, region/);
  } finally {
    fx.recordVariant = null;
  }
});

test('documented fields a UCP leaves out are a warning (grouped for a list), shown as not sent; the call succeeds', async () => {
  fx.recordVariant = { omitFields: ['nodeLocation', 'logFileName'] };
  try {
    warnings.length = 0;
    const list = await api.listBackupsChecked();
    assert.ok(list.every((c) => c.missingFields.join() === 'logFileName,nodeLocation'));
    assert.equal(list[0].record.nodeLocation, '');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /does not follow the documented Backup schema: records lack logFileName \(all of 2 records: .*\); nodeLocation \(all of 2/);
    // Polling the same record does not repeat the same warning every interval.
    await api.getBackup(doneId);
    await api.getBackup(doneId);
    assert.equal(warnings.length, 2);
    assert.match(warnings[1], new RegExp(`backup ${doneId} lacks logFileName; nodeLocation`));

    const text = await runCli(['api', 'get', doneId, ...cli]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^nodeLocation\s+\(not sent by UCP\)$/m);
    assert.match(text.stderr, /^ucp-backup: warning: .*lacks logFileName; nodeLocation/m);
    const list2 = await runCli(['api', 'backups', ...cli, '--json']);
    assert.equal(list2.code, 0, list2.stderr);
    assert.match(list2.stderr, /warning: .*records lack/);
    assert.equal((JSON.parse(list2.stdout) as unknown[]).length, 2);
  } finally {
    fx.recordVariant = null;
  }
});

test('without an id or a backupState a record cannot be named or waited on: that stays an error', () => {
  const base = { id: 'a', backupState: 'SUCCESS' };
  assert.throws(() => checkBackupRecord({ backupState: 'SUCCESS' }), (e) => e instanceof InvalidResponseError && /backup has no id/.test(e.message));
  assert.throws(() => checkBackupRecord({ id: 'a' }), /backup has no backupState/);
  assert.throws(() => checkBackupRecord({ ...base, encrypted: 'yes' }), /encrypted should be a boolean/);
  const minimal = checkBackupRecord(base);
  assert.equal(minimal.missingFields.length, 8);
  assert.equal(missingFieldsWarning([minimal])?.startsWith("UCP's answer does not follow the documented Backup schema: backup a lacks encrypted; fileName"), true);
  assert.equal(missingFieldsWarning([checkBackupRecord({ ...base, encrypted: true, fileName: '', logFileName: '', backupPath: '', nodeLocation: '', shortError: '', created_at: ZERO_TIME, completed_at: ZERO_TIME })]), undefined);
});

test('5,000 records from a UCP that adds and drops fields are listed in well under a second, with one warning line', async () => {
  const template = fx.records.get(doneId)!;
  const ids: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const id = `bulk-${String(i).padStart(4, '0')}`;
    ids.push(id);
    fx.records.set(id, { ...template, id, fileName: `${id}.tar` });
  }
  fx.recordVariant = { addFields: { sizeBytes: 1 }, omitFields: ['shortError'] };
  try {
    warnings.length = 0;
    const started = performance.now();
    const list = await api.listBackupsChecked();
    const ms = performance.now() - started;
    assert.equal(list.length, 5002);
    assert.ok(ms < 1000, `listing took ${Math.round(ms)} ms`);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /records lack shortError \(all of 5002 records\)\./);
  } finally {
    fx.recordVariant = null;
    for (const id of ids) fx.records.delete(id);
  }
});
