/**
 * `npm run demo`'s history: what a cron job on the managers would have left over the last
 * three weeks, made through the real engine (the built CLI against the sandbox cluster) into
 * the demo's own history (UCP_BACKUP_HISTORY_SCOPE=demo, see clusterHistory.ts), never the
 * test suite's. Most nights SUCCESS, encrypted, on manager1's or manager2's backup folder; one
 * night FAILED for a real reason (a folder the nobody user cannot write). Each run is then
 * dated to its night (created_at = the time in its file name; completed_at keeps the real
 * duration). Seeds once: a history that has records is left as it is.
 *
 *   UCP_BACKUP_HISTORY_SCOPE=demo node --import tsx scripts/demo-seed.ts PASSPHRASE_FILE
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Docker from 'dockerode';
import { historyScope, listClusterRecords, updateClusterRecord } from '../src/core/history/clusterHistory';

const ROOT = join(__dirname, '..');
const testbed = JSON.parse(readFileSync(join(ROOT, '.testbed', 'testbed.json'), 'utf8')) as { managers: { name: string; dockerSocketPath: string; backupDir: string; rootOwnedBackupDir: string }[] };
const manager = (name: string) => testbed.managers.find((m) => m.name === name)!;
const log = (line: string) => console.error(`demo-seed: ${line}`);

/** Nights (days ago) a nightly cron ran at 02:00 UTC, the node it ran on, and the one that failed. */
const NIGHTS: { daysAgo: number; node: string; fails?: boolean }[] = [
  { daysAgo: 21, node: 'manager1' },
  { daysAgo: 18, node: 'manager1' },
  { daysAgo: 15, node: 'manager1' },
  { daysAgo: 12, node: 'manager2', fails: true },
  { daysAgo: 11, node: 'manager2' },
  { daysAgo: 8, node: 'manager2' },
  { daysAgo: 5, node: 'manager1' },
  { daysAgo: 2, node: 'manager1' },
  { daysAgo: 1, node: 'manager1' },
];

function nightOf(daysAgo: number): Date {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - daysAgo);
  d.setUTCHours(2, 0, 0, 0);
  return d;
}

/** The name Backup Now proposes: <cluster>-ucp-backup-<created_at to the second>.tar. */
const fileNameAt = (t: Date) => `demo-ucp-backup-${t.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-')}.tar`;

async function main(): Promise<void> {
  if (historyScope() !== 'demo') throw new Error('run with UCP_BACKUP_HISTORY_SCOPE=demo: the demo never writes into the test suite\'s history');
  const passphraseFile = process.argv[2];
  if (!passphraseFile) throw new Error('usage: demo-seed.ts PASSPHRASE_FILE');
  const docker = new Docker({ socketPath: manager('manager1').dockerSocketPath, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);
  if ((await listClusterRecords(docker)).length > 0) {
    log('the demo history already has records; left as it is');
    return;
  }
  for (const night of NIGHTS) {
    const at = nightOf(night.daysAgo);
    const name = fileNameAt(at);
    const m = manager(night.node);
    const folder = night.fails ? m.rootOwnedBackupDir : m.backupDir;
    const args = [join(ROOT, 'dist', 'cli.js'), 'backup', '--config', join(ROOT, '.testbed', 'clusters.json'), '--node', night.node, '--engine', 'builtin', '--host-path', folder, '--name', name, '--passphrase-file', passphraseFile, '--include-logs'];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: process.env });
    if ((r.status === 0) === !!night.fails) throw new Error(`ucp-backup backup of ${name} exited ${r.status}:\n${r.stderr}`);
    log(`${name} on ${night.node}: ${r.status === 0 ? 'SUCCESS' : 'FAILED (as planned)'}`);
    const record = (await listClusterRecords(docker)).find((x) => x.fileName === name);
    if (!record) throw new Error(`no record of ${name} in the demo history`);
    const took = Date.parse(record.completed_at) - Date.parse(record.created_at);
    await updateClusterRecord(docker, { ...record, created_at: at.toISOString(), completed_at: new Date(at.getTime() + took).toISOString() });
  }
  log(`seeded ${NIGHTS.length} nights of backups`);
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`ERROR: ${(err as Error).message}`);
    process.exit(1);
  },
);
