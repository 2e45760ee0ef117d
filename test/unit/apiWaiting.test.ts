/**
 * Waiting for a backup made through the API (VS Code's progress, `api backup --wait`): polls
 * of GET /api/ucp/backup/{id} back off while nothing changes, and a cancel stops the waiting
 * only, saying the backup goes on in UCP. Server: the FIXTURE UCP API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { ROOT } from '../helpers/cli';
import { UcpApiClient } from '../../src/core/api/ucpApiClient';
import { WaitCancelledError } from '../../src/core/api/errors';
import { CancelledError, describeError } from '../../src/core/errors';
import { startUcpApiFixture, simulatedRunner, type UcpApiFixture, type RunnerResult } from '../fixtures/ucpApiServer';

let fx: UcpApiFixture;
let api: UcpApiClient;

before(async () => {
  fx = await startUcpApiFixture();
  api = new UcpApiClient({ url: fx.url, ca: fx.caPem });
  await api.login('admin', 'admin-password');
});
after(() => fx.close());

/** Starts a backup held IN_PROGRESS until release(). */
async function heldBackup() {
  let release!: (r: RunnerResult) => void;
  fx.runner = () => new Promise((r) => (release = r));
  const id = await api.createBackup({ fileName: 'held.tar', hostPath: '/var/backups/ucp', noPassphrase: true });
  fx.runner = simulatedRunner;
  return { id, release: (r: RunnerResult) => release(r) };
}

const polls = () => fx.requests.filter((r) => r.route === 'get').length;

/** How many polls a wait makes in `ms` before it is cancelled. */
async function pollsWithin(ms: number, id: string, opts: { intervalMs: number; maxIntervalMs?: number }) {
  const start = polls();
  const ac = new AbortController();
  const waiting = api.waitForBackup(id, { ...opts, signal: ac.signal }).catch((e: unknown) => e);
  await sleep(ms);
  ac.abort();
  assert.ok((await waiting) instanceof WaitCancelledError);
  return polls() - start;
}

test('while a backup stays IN_PROGRESS the polls back off up to maxIntervalMs; without it they keep the interval', async () => {
  const held = await heldBackup();
  try {
    const fixed = await pollsWithin(800, held.id, { intervalMs: 20 });
    const backedOff = await pollsWithin(800, held.id, { intervalMs: 20, maxIntervalMs: 200 });
    // 20 ms fixed: ~30 polls in 800 ms; 20 → 30 → 45 → … → 200 ms: about 9.
    assert.ok(fixed >= 15, `fixed interval polled ${fixed} times`);
    assert.ok(backedOff <= 12, `backoff polled ${backedOff} times`);
    assert.ok(backedOff * 2 < fixed, `${backedOff} vs ${fixed}`);
  } finally {
    held.release({ state: 'SUCCESS' });
  }
  await api.waitForBackup(held.id, { intervalMs: 20 });
});

test('a cancel stops the waiting only: the error says the backup goes on in UCP and how to follow it', async () => {
  const held = await heldBackup();
  const ac = new AbortController();
  const waiting = api.waitForBackup(held.id, { intervalMs: 30, signal: ac.signal, onUpdate: () => ac.abort() });
  const err = await waiting.catch((e: unknown) => e);
  assert.ok(err instanceof WaitCancelledError && err instanceof CancelledError, String(err));
  assert.equal(err.exitCode, 130);
  assert.equal(describeError(err), `Stopped waiting for backup ${held.id}; it goes on in UCP (the API cannot cancel it). See how it ends with \`ucp-backup api get ${held.id}\`.`);
  assert.equal(fx.records.get(held.id)?.backupState, 'IN_PROGRESS', 'the backup itself is untouched');
  held.release({ state: 'SUCCESS' });
  assert.equal((await api.waitForBackup(held.id, { intervalMs: 20 })).backupState, 'SUCCESS');
});

test('`api backup --wait` stopped by SIGTERM says the backup goes on in UCP (exit 143)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-wait-'));
  writeFileSync(join(dir, 'ca.pem'), fx.caPem);
  writeFileSync(join(dir, 'password'), 'admin-password\n');
  let release!: (r: RunnerResult) => void;
  fx.runner = () => new Promise((r) => (release = r));
  try {
    const start = polls();
    // Spawned here rather than by runCli: the test sends the signal itself, as systemd would.
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'api', 'backup', '--url', fx.url, '--ca', join(dir, 'ca.pem'),
      '--username', 'admin', '--password-file', join(dir, 'password'), '--file-name', 'stopped.tar', '--host-path', '/var/backups/ucp', '--no-passphrase', '--wait', '--interval', '0.05'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end();
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    for (let i = 0; polls() < start + 2; i++) {
      if (i > 500) assert.fail(`the CLI never polled: ${stderr}`);
      await sleep(20);
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 143, stderr);
    const id = [...fx.records.values()].find((rec) => rec.fileName === 'stopped.tar')!.id;
    assert.match(stderr, new RegExp(`Stopped waiting for backup ${id}; it goes on in UCP .*ucp-backup api get ${id}`));
    assert.equal(fx.records.get(id)?.backupState, 'IN_PROGRESS');
  } finally {
    fx.runner = simulatedRunner;
    release?.({ state: 'SUCCESS' });
    rmSync(dir, { recursive: true, force: true });
  }
});
